using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Storage.Transport.Relay;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the shard relay (<see cref="ShardRelayOptions"/>, bound from <c>Xmbl:Storage:Relay</c>).</summary>
public static class ShardRelayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the relay for silo <paramref name="silo"/>: a <see cref="ShardRelayHub"/> that holds other silos' tunnels
    /// (when <see cref="ShardRelayOptions.Serve"/>), and, when <see cref="ShardRelayOptions.Via"/> names a relay, a
    /// <see cref="ShardRelayClient"/> that keeps this silo's tunnels open to it. Needs <c>AddHttpShardTransport</c>; map
    /// the routes with <c>app.MapShardRelay()</c>.
    /// </summary>
    public static IServiceCollection AddShardRelay(this IServiceCollection services, string silo)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ShardRelayOptions>().BindConfiguration(ShardRelayOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShardRelayOptions>, ShardRelayOptionsValidator>());
        services.TryAddSingleton(new ShardRelayIdentity(silo));
        services.TryAddSingleton(sp => new ShardRelayHub(sp.GetRequiredService<IOptions<ShardRelayOptions>>().Value));
        services.AddSingleton<IHostedService>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShardRelayOptions>>().Value;
            // Tunnels end with the host: a tunnel request would otherwise hold shutdown until Kestrel's timeout.
            var hub = sp.GetRequiredService<ShardRelayHub>();
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(hub.Dispose);
            return options.ViaUri is null
                ? new NoRelayClient()
                : new ShardRelayClient(
                    options,
                    sp.GetRequiredService<ShardRelayIdentity>(),
                    sp.GetRequiredService<ShardRequestAuthenticator>(),
                    sp.GetRequiredService<IServer>(),
                    sp.GetRequiredService<IHostApplicationLifetime>(),
                    sp.GetRequiredService<ILogger<ShardRelayClient>>());
        });
        return services;
    }

    // A reachable silo keeps no tunnels.
    private sealed class NoRelayClient : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
