using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests;

/// <summary>Startup: schema creation on empty databases, fast clear failure on unusable ones, options binding and validation.</summary>
[Trait("Suite", "Functional")]
public sealed class GrainRuntimeStartupTests : IDisposable
{
    private readonly TempDirectory _dir = new("xmbl-startup");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Start_OnMissingSqliteFile_CreatesDirectoryFileAndSchema()
    {
        var path = _dir.File("nested/dir/grains.db");
        await using (var silo = await TestSilo.StartAsync(new SqliteTarget(path)))
        {
        }

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = new SqliteCommand("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", connection);
        var tables = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["xmbl_grain_state", "xmbl_reminders", "xmbl_silos"], tables);
    }

    [Fact]
    public async Task Start_Twice_OnSameSqliteFile_IsIdempotent()
    {
        var path = _dir.File("grains.db");
        await using (var first = await TestSilo.StartAsync(new SqliteTarget(path)))
        {
            await first.Factory.GetGrain<ICounterGrain>("k").IncrementAsync();
        }

        await using var second = await TestSilo.StartAsync(new SqliteTarget(path));
        Assert.Equal(1, await second.Factory.GetGrain<ICounterGrain>("k").GetAsync());
    }

    [Fact]
    public async Task Start_WhenSqlitePathIsUnusable_FailsWithStartupExceptionNamingThePath()
    {
        var blocker = _dir.File("not-a-directory");
        await File.WriteAllTextAsync(blocker, "x");
        var path = Path.Combine(blocker, "grains.db");
        var silo = TestSilo.Create(new SqliteTarget(path));

        var ex = await Assert.ThrowsAsync<GrainRuntimeStartupException>(() => silo.Host.StartAsync());

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Xmbl:Persistence:SqlitePath", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenPostgresIsDown_FailsFastWithClearMessageAndNoPassword()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var connectionString = $"Host=127.0.0.1;Port={port};Database=xmbl;Username=xmbl;Password=s3cret-pw";
        var silo = TestSilo.Create(new PostgresTarget(connectionString));
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<GrainRuntimeStartupException>(() => silo.Host.StartAsync());

        clock.Stop();
        Assert.Contains($"Cannot connect to PostgreSQL at 127.0.0.1:{port}/xmbl", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Xmbl:Persistence:ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.ToString(), StringComparison.Ordinal);
        // "Fast" means the connect timeout (5 s by default), not minutes of retries; generous bound for a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"startup took {clock.Elapsed} to fail");
    }

    [Fact]
    public void Options_PostgresWithoutConnectionString_FailValidationNamingKeyAndFix()
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime();
        services.Configure<PersistenceOptions>(o => o.Provider = PersistenceProvider.Postgres);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PersistenceOptions>>().Value);

        Assert.Contains("Xmbl:Persistence:ConnectionString is required", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Port=notaport", "is not a valid PostgreSQL connection string")]
    [InlineData("Host=db;NoSuchKeyword=1", "is not a valid PostgreSQL connection string")]
    public void Options_MalformedConnectionString_FailValidationNamingKey(string connectionString, string expected)
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime().UsePostgres(connectionString);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PersistenceOptions>>().Value);

        Assert.Contains($"Xmbl:Persistence:ConnectionString {expected}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_DeathTimeoutNotAboveHeartbeat_FailValidation()
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime(o =>
        {
            o.HeartbeatPeriod = TimeSpan.FromSeconds(5);
            o.DeathTimeout = TimeSpan.FromSeconds(5);
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SiloOptions>>().Value);

        Assert.Contains("Xmbl:Silo:DeathTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_BoundFromRegisteredConfiguration_PickTheBackend()
    {
        var path = _dir.File("from-config.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Xmbl:Persistence:Provider"] = "Sqlite",
            ["Xmbl:Persistence:SqlitePath"] = path,
            ["Xmbl:Silo:SiloId"] = "configured-silo",
            ["Xmbl:Silo:HeartbeatPeriod"] = "00:00:03",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGrainRuntime();
        using var provider = services.BuildServiceProvider();

        var backend = Assert.IsType<SqliteBackend>(provider.GetRequiredService<IPersistenceBackend>());
        var silo = provider.GetRequiredService<IOptions<SiloOptions>>().Value;

        Assert.Equal(Path.GetFullPath(path), backend.Database.FullPath);
        Assert.Equal(("configured-silo", TimeSpan.FromSeconds(3)), (silo.SiloId, silo.HeartbeatPeriod));
        Assert.Equal("configured-silo", provider.GetRequiredService<IClusterMembership>().LocalSiloId);
    }

    [Fact]
    public void Options_ConnectionStringAlone_SelectsPostgres_AndUseSqliteOverridesConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Xmbl:Persistence:ConnectionString"] = "Host=db;Database=xmbl;Username=u;Password=p",
        }).Build();
        var fromConfig = new ServiceCollection();
        fromConfig.AddGrainRuntime(configuration);
        using (var provider = fromConfig.BuildServiceProvider())
        {
            Assert.Equal(PersistenceProvider.Postgres, provider.GetRequiredService<IOptions<PersistenceOptions>>().Value.EffectiveProvider);
        }

        var overridden = new ServiceCollection();
        overridden.AddGrainRuntime(configuration).UseSqlite(_dir.File("code.db"));
        using (var provider = overridden.BuildServiceProvider())
        {
            Assert.Equal(PersistenceProvider.Sqlite, provider.GetRequiredService<IOptions<PersistenceOptions>>().Value.EffectiveProvider);
        }
    }

    [Fact]
    public void Options_ToString_RedactsPassword()
    {
        var options = new PersistenceOptions { ConnectionString = "Host=db;Username=xmbl;Password=hunter2" };
        var text = options.ToString();
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.Contains("host=db", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Provider=Postgres", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGrain_WithMethodNotReturningTask_IsRejectedAtRegistration()
    {
        var builder = new ServiceCollection().AddGrainRuntime();
        var ex = Assert.ThrowsAny<Exception>(() => builder.AddGrain<IBadGrain, BadGrain>());
        Assert.Contains("IBadGrain.Get returns Int32", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetGrain_ForUnregisteredInterface_ThrowsNamingTheFix()
    {
        await using var silo = TestSilo.Create(new SqliteTarget(_dir.File("u.db")));
        var ex = Assert.Throws<InvalidOperationException>(() => silo.Factory.GetGrain<IUnregisteredGrain>("x"));
        Assert.Contains("AddGrain<IUnregisteredGrain", ex.Message, StringComparison.Ordinal);
    }

    [Trait("Suite", "Postgres")]
    [Collection(PostgresCollection.Name)]
    public sealed class Postgres(PostgresFixture postgres)
    {
        [Fact]
        public async Task Start_OnEmptyPostgresDatabase_CreatesSchema_AndTwoConcurrentStartsAgree()
        {
            var connectionString = await postgres.CreateDatabaseAsync();
            var target = new PostgresTarget(connectionString);
            var silos = await Task.WhenAll(TestSilo.StartAsync(target), TestSilo.StartAsync(target));
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name", connection);
            var tables = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }

            Assert.Equal(["xmbl_grain_state", "xmbl_reminders", "xmbl_silos"], tables);
        }
    }
}

public interface IBadGrain : IGrainWithStringKey
{
    int Get();
}

public sealed class BadGrain : Grain, IBadGrain
{
    public int Get() => 0;
}

public interface IUnregisteredGrain : IGrainWithStringKey
{
    Task PingAsync();
}
