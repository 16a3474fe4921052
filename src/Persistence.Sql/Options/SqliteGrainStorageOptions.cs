using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Sqlite;

namespace Xmbl.Cluster.Persistence.Sql.Options;

/// <summary>Settings of one <see cref="SqliteGrainStorage"/> (embedded mode's grain storage).</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>Default of <see cref="MaxBatchSize"/>.</summary>
    public const int DefaultMaxBatchSize = 512;

    /// <summary>Largest allowed <see cref="MaxBatchSize"/>.</summary>
    public const int MaxBatchSizeLimit = 10_000;

    /// <summary>Default of <see cref="BusyTimeoutSeconds"/>.</summary>
    public const int DefaultBusyTimeoutSeconds = 30;

    /// <summary>
    /// The SQLite database (<c>Data Source=path</c>, Microsoft.Data.Sqlite form), the file that
    /// <c>SchemaMigrator</c> brought to script 0004. Its directory is created if missing. Never logged whole.
    /// </summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// How durable a commit is (default <see cref="SqliteSynchronous.Normal"/>: survives a process crash or kill -9,
    /// not a power loss or OS crash; <see cref="SqliteSynchronous.Full"/> adds an fsync per commit).
    /// </summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;

    /// <summary>
    /// Most writes committed in one transaction (default 512, 1-10,000), so one commit never holds SQLite's single
    /// writer for long; writes beyond it wait for the next transaction.
    /// </summary>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// Seconds a statement waits for SQLite's write lock held by another connection, such as the AdoNet reminder
    /// provider's on the same file (default 30, 1-3600); then the write fails.
    /// </summary>
    public int BusyTimeoutSeconds { get; set; } = DefaultBusyTimeoutSeconds;

    /// <summary>
    /// On clear, delete the row (the grain starts over at version 1) instead of keeping it with no payload and the next
    /// version (default false, as Orleans' AdoNet provider).
    /// </summary>
    public bool DeleteStateOnClear { get; set; }

    /// <summary>The state serializer; null (default) is <see cref="GrainStateJsonSerializer.Default"/>.</summary>
    public IGrainStorageSerializer? GrainStorageSerializer { get; set; }

    /// <summary>The silo lifecycle stage at which the storage opens its database (default <c>ApplicationServices</c>).</summary>
    public int InitStage { get; set; } = ServiceLifecycleStage.ApplicationServices;
}
