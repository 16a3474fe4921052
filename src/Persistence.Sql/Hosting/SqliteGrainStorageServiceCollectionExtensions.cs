using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SqliteGrainStorage"/> in a silo's services.</summary>
public static class SqliteGrainStorageServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="SqliteGrainStorage"/> named <paramref name="name"/>: the keyed <see cref="IGrainStorage"/> that
    /// <c>[PersistentState("state", name)]</c> resolves, taking part in the silo lifecycle (opened at start, queued
    /// writes committed at stop), with its options validated when the silo starts.
    /// </summary>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SqliteGrainStorageOptions>(name).Configure(configure);
        services.AddTransient<IConfigurationValidator>(sp => new SqliteGrainStorageOptionsValidator(sp.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name), name));
        // Orleans' own registration: the keyed storage, the default one when so named, and its lifecycle participation.
        return services.AddGrainStorage(name, SqliteGrainStorage.Create);
    }
}
