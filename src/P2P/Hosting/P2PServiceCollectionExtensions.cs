using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P;
using Xmbl.Cluster.P2P.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="P2PHost"/> that listens while the application runs.</summary>
public static class P2PServiceCollectionExtensions
{
    /// <summary>
    /// Adds a libp2p host: <see cref="P2POptions"/> bound from the <c>P2P</c> section and validated at start, the host
    /// as a singleton (with the identity <paramref name="identity"/> returns), and a hosted service that listens on
    /// <c>P2P:ListenAddresses</c> at start and closes every connection at stop.
    /// </summary>
    public static IServiceCollection AddP2PHost(this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, Ed25519KeyPair> identity)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(identity);
        services.AddOptions<P2POptions>().Bind(configuration.GetSection(P2POptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<P2POptions>, P2POptionsValidator>();
        services.AddSingleton(sp => new P2PHost(
            identity(sp),
            sp.GetRequiredService<IOptions<P2POptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        services.AddHostedService<P2PHostedService>();
        return services;
    }

    private sealed class P2PHostedService(P2PHost host) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

        public async Task StopAsync(CancellationToken cancellationToken) => await host.DisposeAsync();
    }
}
