using Xmbl.Cluster;
using Xmbl.Cluster.Runtime;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Picks the persistence backend and registers grain classes.</summary>
public static class GrainRuntimeBuilderExtensions
{
    /// <summary>Keeps grain state, membership and reminders in an embedded SQLite file (the default).</summary>
    /// <param name="builder">The runtime builder.</param>
    /// <param name="databasePath">The database file; its directory is created if missing.</param>
    /// <returns>The builder.</returns>
    public static IGrainRuntimeBuilder UseSqlite(this IGrainRuntimeBuilder builder, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        builder.Services.Configure<PersistenceOptions>(o =>
        {
            o.Provider = PersistenceProvider.Sqlite;
            o.SqlitePath = databasePath;
        });
        return builder;
    }

    /// <summary>Keeps grain state, membership and reminders in a PostgreSQL database shared by the cluster.</summary>
    /// <param name="builder">The runtime builder.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <returns>The builder.</returns>
    public static IGrainRuntimeBuilder UsePostgres(this IGrainRuntimeBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.Configure<PersistenceOptions>(o =>
        {
            o.Provider = PersistenceProvider.Postgres;
            o.ConnectionString = connectionString;
        });
        return builder;
    }

    /// <summary>Registers <typeparamref name="TGrain"/> as the implementation of grain interface <typeparamref name="TGrainInterface"/>.</summary>
    /// <typeparam name="TGrainInterface">The grain interface; its simple name is the grain type stored in the database.</typeparam>
    /// <typeparam name="TGrain">The grain class; constructor parameters are resolved from the service provider.</typeparam>
    /// <param name="builder">The runtime builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The types do not fit (not an interface, not a grain class, wrong key kind).</exception>
    /// <exception cref="InvalidOperationException">A method of the interface does not return a task, is generic or has ref/out parameters.</exception>
    public static IGrainRuntimeBuilder AddGrain<TGrainInterface, TGrain>(this IGrainRuntimeBuilder builder)
        where TGrainInterface : class, IGrain
        where TGrain : Grain, TGrainInterface
    {
        ArgumentNullException.ThrowIfNull(builder);
        var descriptor = GrainRegistration.Validate(typeof(TGrainInterface), typeof(TGrain));
        builder.Services.AddSingleton(new GrainRegistration(typeof(TGrainInterface), typeof(TGrain), descriptor));
        return builder;
    }

    /// <summary>Adjusts the silo options (identity, heartbeat, death timeout, reminder polling).</summary>
    /// <param name="builder">The runtime builder.</param>
    /// <param name="configure">The adjustment.</param>
    /// <returns>The builder.</returns>
    public static IGrainRuntimeBuilder ConfigureSilo(this IGrainRuntimeBuilder builder, Action<SiloOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }
}
