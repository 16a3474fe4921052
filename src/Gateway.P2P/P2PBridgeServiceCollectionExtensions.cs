using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.P2P;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Identity;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's libp2p bridge when <c>Xmbl:Gateway:P2P:Port</c> is set.</summary>
public static class P2PBridgeServiceCollectionExtensions
{
    /// <summary>The file under the data directory that holds the gateway's libp2p identity (created on first start).</summary>
    public const string KeyFileName = "p2p.key";

    /// <summary>
    /// Adds the bridge: a libp2p host (section <c>P2P</c> for its limits) with the gateway's own key
    /// (<c>DATA/p2p.key</c>), listening on <c>Xmbl:Gateway:P2P:Port</c> and serving the <c>/xmbl/…</c> protocols. Adds
    /// nothing when the port is unset: the bridge is off.
    /// </summary>
    public static IServiceCollection AddP2PBridge(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrEmpty(configuration[$"{P2PBridgeOptions.SectionName}:{nameof(P2PBridgeOptions.Port)}"]))
        {
            return services;
        }

        services.AddOptions<P2PBridgeOptions>().BindConfiguration(P2PBridgeOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<P2PBridgeOptions>, P2PBridgeOptionsValidator>());
        services.AddSingleton(sp => new BridgeKey(KeyFile.LoadOrCreate(Path.Combine(
            Path.GetFullPath(configuration[SiloConfiguration.DataDirectoryKey] ?? SiloConfiguration.DefaultDataDirectory), KeyFileName))));
        services.AddP2PHost(configuration, sp => sp.GetRequiredService<BridgeKey>().Key);
        services.AddSingleton<IBridgeProtocol, JobProtocol>();
        services.AddSingleton<IBridgeProtocol, ObjectProtocol>();
        services.AddSingleton<IBridgeProtocol, NodeProtocol>();
        services.AddSingleton<P2PBridge>();
        services.AddHostedService(sp => sp.GetRequiredService<P2PBridge>());
        return services;
    }

    /// <summary>Owns the gateway's libp2p key (disposed with the container).</summary>
    private sealed class BridgeKey(Ed25519KeyPair key) : IDisposable
    {
        public Ed25519KeyPair Key { get; } = key;

        public void Dispose() => Key.Dispose();
    }
}
