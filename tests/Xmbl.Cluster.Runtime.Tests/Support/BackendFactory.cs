using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Postgres;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Support;

/// <summary>Creates an initialized backend over a database, for the conformance kits.</summary>
internal static class BackendFactory
{
    public static async Task<IPersistenceBackend> CreateAsync(BackendTarget target, TimeProvider? time = null)
    {
        IPersistenceBackend backend = target switch
        {
            SqliteTarget s => new SqliteBackend(s.Path, 30, time ?? TimeProvider.System),
            PostgresTarget p => new PostgresBackend(new PersistenceOptions { Provider = PersistenceProvider.Postgres, ConnectionString = p.ConnectionString }, time ?? TimeProvider.System, NullLoggerFactory.Instance),
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
        await backend.InitializeAsync(CancellationToken.None);
        return backend;
    }
}

/// <summary>Fresh SQLite files in a temp directory.</summary>
public sealed class SqliteTargets : IDisposable
{
    private readonly TempDirectory _directory = new("xmbl-runtime");
    private int _count;

    public SqliteTarget New() => new(_directory.File($"db{Interlocked.Increment(ref _count)}.db"));

    public void Dispose() => _directory.Dispose();
}
