using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Network;
using Xmbl.Cluster.Gateway.Page;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the network page and its feed (part of <see cref="GatewayExtensions.AddGateway"/>).</summary>
public static class NetworkFeedServiceCollectionExtensions
{
    /// <summary>
    /// Adds the page's files and <see cref="NetworkFeed"/>; <c>Xmbl:Gateway:Network</c> binds <see cref="NetworkFeedOptions"/>.
    /// The feed reads the cluster through an <see cref="INetworkSource"/>; one registered before this call is kept.
    /// </summary>
    public static IServiceCollection AddNetworkFeed(this IServiceCollection services)
    {
        services.AddOptions<NetworkFeedOptions>().BindConfiguration(NetworkFeedOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NetworkFeedOptions>, NetworkFeedOptionsValidator>());
        services.TryAddSingleton<INetworkSource, ClusterNetworkSource>();
        services.TryAddSingleton(sp => new NetworkFeed(
            sp.GetRequiredService<INetworkSource>(),
            sp.GetRequiredService<IOptions<NetworkFeedOptions>>(),
            sp.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions,
            sp.GetRequiredService<ILogger<NetworkFeed>>()));
        services.TryAddSingleton<NetworkPage>();
        return services;
    }
}
