using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster;
using Xmbl.Cluster.Runtime;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Hosting;
using Xmbl.Cluster.Runtime.Membership;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Postgres;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;
using Xmbl.Cluster.Runtime.Storage;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the grain runtime in a service collection.</summary>
public static class GrainRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the grain runtime: <see cref="IGrainFactory"/>, <see cref="IGrainStateQuery"/>, <see cref="IClusterMembership"/>
    /// and a hosted service that creates the schema, joins membership and runs reminders. Options bind from the
    /// application's <see cref="IConfiguration"/> (sections <c>Xmbl:Persistence</c> and <c>Xmbl:Silo</c>) when one is registered.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the silo options after configuration is applied.</param>
    /// <returns>A builder to pick the backend and add grains.</returns>
    public static IGrainRuntimeBuilder AddGrainRuntime(this IServiceCollection services, Action<SiloOptions>? configure = null) =>
        AddGrainRuntimeCore(services, null, configure);

    /// <summary>Adds the grain runtime with options bound from <paramref name="configuration"/>; see <see cref="AddGrainRuntime(IServiceCollection, Action{SiloOptions}?)"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Xmbl:Persistence</c> and <c>Xmbl:Silo</c> sections.</param>
    /// <param name="configure">Adjusts the silo options after configuration is applied.</param>
    /// <returns>A builder to pick the backend and add grains.</returns>
    public static IGrainRuntimeBuilder AddGrainRuntime(this IServiceCollection services, IConfiguration configuration, Action<SiloOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddGrainRuntimeCore(services, configuration, configure);
    }

    private static GrainRuntimeBuilder AddGrainRuntimeCore(IServiceCollection services, IConfiguration? configuration, Action<SiloOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new GrainRuntimeBuilder(services, configuration);
        if (services.Any(d => d.ServiceType == typeof(GrainRuntimeMarker)))
        {
            // Already added: only apply the extra configuration.
            if (configure is not null)
            {
                services.Configure(configure);
            }

            return builder;
        }

        services.AddSingleton<GrainRuntimeMarker>();
        services.AddOptions();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);

        // Configuration first, so that Use…() calls and the configure delegate (registered later) win over it.
        services.AddSingleton<IConfigureOptions<PersistenceOptions>>(sp => new ConfigureNamedOptions<PersistenceOptions>(
            Microsoft.Extensions.Options.Options.DefaultName,
            o => (configuration ?? sp.GetService<IConfiguration>())?.GetSection(PersistenceOptions.SectionName).Bind(o)));
        services.AddSingleton<IConfigureOptions<SiloOptions>>(sp => new ConfigureNamedOptions<SiloOptions>(
            Microsoft.Extensions.Options.Options.DefaultName,
            o => (configuration ?? sp.GetService<IConfiguration>())?.GetSection(SiloOptions.SectionName).Bind(o)));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.AddSingleton<IValidateOptions<PersistenceOptions>, PersistenceOptionsValidator>();
        services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        services.AddOptions<PersistenceOptions>().ValidateOnStart();
        services.AddOptions<SiloOptions>().ValidateOnStart();

        services.AddSingleton(sp => new GrainRegistry(sp.GetServices<GrainRegistration>()));
        services.AddSingleton<IPersistenceBackend>(CreateBackend);
        services.AddSingleton(sp => new GrainRuntime(
            sp, sp.GetRequiredService<GrainRegistry>(), sp.GetRequiredService<IPersistenceBackend>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<GrainRuntime>>()));
        services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<GrainRuntime>());
        services.AddSingleton<IGrainStateQuery, GrainStateQuery>();
        services.AddSingleton<IClusterMembership, ClusterMembership>();
        services.AddSingleton<GrainRuntimeHostedService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<GrainRuntimeHostedService>());
        return builder;
    }

    private static IPersistenceBackend CreateBackend(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<PersistenceOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        return options.EffectiveProvider switch
        {
            PersistenceProvider.Postgres => new PostgresBackend(options, time, services.GetRequiredService<ILoggerFactory>()),
            _ => new SqliteBackend(options.SqlitePath, options.CommandTimeoutSeconds, time),
        };
    }

    private sealed class GrainRuntimeMarker;

    private sealed class GrainRuntimeBuilder(IServiceCollection services, IConfiguration? configuration) : IGrainRuntimeBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration? Configuration { get; } = configuration;
    }
}
