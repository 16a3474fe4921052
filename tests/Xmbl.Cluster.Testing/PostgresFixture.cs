namespace Xmbl.Cluster.Testing;

/// <summary>
/// xUnit fixture owning one <see cref="PostgresServer"/> for a test collection. Fails (never skips) when PostgreSQL
/// is not installed, so a CI without it is noticed.
/// </summary>
/// <remarks>
/// xUnit only sees collection definitions in the test assembly itself, so each test project declares
/// <c>[CollectionDefinition("Postgres")] public sealed class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;</c>.
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    /// <summary>The running server.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started.");

    /// <summary>Creates a fresh empty database; see <see cref="PostgresServer.CreateDatabaseAsync"/>.</summary>
    public Task<string> CreateDatabaseAsync() => Server.CreateDatabaseAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync().ConfigureAwait(false);

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
