using System.Diagnostics;
using Npgsql;

namespace Xmbl.Cluster.Testing;

/// <summary>
/// A throwaway PostgreSQL server for tests: initdb into a temp directory, started on a free 127.0.0.1 port with its
/// own Unix socket directory and fsync off, stopped and deleted on dispose. As root, the server binaries run as the
/// <c>postgres</c> user through <c>runuser</c> (initdb and postgres refuse to run as root).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string RunAsUser = "postgres";
    private readonly string _binDirectory;
    private readonly string _root;
    private readonly string _dataDirectory;
    private readonly bool _asRoot;
    private int _databaseCounter;
    private bool _started;
    private string _settings = string.Empty;

    private PostgresServer(string binDirectory, string root, int port, bool asRoot)
    {
        _binDirectory = binDirectory;
        _root = root;
        _dataDirectory = Path.Combine(root, "data");
        Port = port;
        _asRoot = asRoot;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string for the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    /// <summary>Finds the PostgreSQL server binaries (initdb, pg_ctl): on PATH, or under /usr/lib/postgresql/*/bin.</summary>
    /// <returns>The directory, or null when PostgreSQL is not installed.</returns>
    public static string? FindBinDirectory()
    {
        var fromPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        if (fromPath is not null)
        {
            return fromPath;
        }

        const string Debian = "/usr/lib/postgresql";
        if (!Directory.Exists(Debian))
        {
            return null;
        }

        return Directory.GetDirectories(Debian)
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    /// <summary>Creates, initializes and starts a server.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed, or the server failed to start (the message says why).</exception>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. " +
            "Install them (Debian/Ubuntu: apt-get install postgresql) to run the Postgres test suite.");
        var asRoot = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";
        var root = Path.Combine(Path.GetTempPath(), $"xmbl-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var server = new PostgresServer(bin, root, TcpPorts.Free(), asRoot);
        try
        {
            await server.InitAndStartAsync(ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a fresh empty database and returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken ct = default)
    {
        var name = $"xmbl_test_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..40];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        return ConnectionStringFor(name);
    }

    /// <summary>A connection string for database <paramref name="database"/> on this server.</summary>
    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = RunAsUser,
        Database = database,
        Pooling = true,
        Timeout = 5,
    }.ConnectionString;

    private async Task InitAndStartAsync(CancellationToken ct)
    {
        var socketDirectory = Path.Combine(_root, "sock");
        Directory.CreateDirectory(socketDirectory);
        if (_asRoot)
        {
            await RunAsync("chown", ["-R", $"{RunAsUser}:", _root], asPostgres: false, ct).ConfigureAwait(false);
        }

        await RunAsync(Path.Combine(_binDirectory, "initdb"),
            ["-D", _dataDirectory, "-U", RunAsUser, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"], _asRoot, ct).ConfigureAwait(false);
        _settings = string.Join(' ',
            $"-p {Port}", "-c listen_addresses=127.0.0.1", $"-k {socketDirectory}", "-c fsync=off", "-c synchronous_commit=off",
            "-c full_page_writes=off", "-c max_connections=200", "-c shared_buffers=32MB");
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
            ["-D", _dataDirectory, "-o", _settings, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "start"], _asRoot, ct).ConfigureAwait(false);
        _started = true;
    }

    /// <summary>
    /// Stops the server (fast shutdown: clients are disconnected, nothing committed is lost), keeps it down for
    /// <paramref name="downtime"/>, and starts it again on the same port, as a database restart in production would.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken ct = default)
    {
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "fast", "-w", "stop"], _asRoot, ct).ConfigureAwait(false);
        await Task.Delay(downtime, ct).ConfigureAwait(false);
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
            ["-D", _dataDirectory, "-o", _settings, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "start"], _asRoot, ct).ConfigureAwait(false);

        // This test process's pooled connections died with the old server: later tests of the collection (which
        // shares the server) would otherwise get one and fail with 57P01.
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    private async Task RunAsync(string file, string[] args, bool asPostgres, CancellationToken ct)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : file,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _root,
        };
        if (asPostgres)
        {
            foreach (var a in (string[])["-u", RunAsUser, "--", file])
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var log = Path.Combine(_root, "server.log");
            var serverLog = File.Exists(log) ? await File.ReadAllTextAsync(log, ct).ConfigureAwait(false) : string.Empty;
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} {string.Join(' ', args)} failed with exit code {process.ExitCode}:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}\n{serverLog}");
        }
    }

    /// <summary>Stops the server (immediate shutdown) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            _started = false;
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "immediate", "-w", "stop"], _asRoot, CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already stopped; nothing to do but clean up.
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
