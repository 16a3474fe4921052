using System.Net.Http.Json;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Testing.Processes;

/// <summary>
/// A real silo process (the built Xmbl.Cluster.Silo.dll), or a standalone gateway (<see cref="GatewayProcess"/>), on a free loopback port. <see cref="Http"/> signs every request
/// as <see cref="TestAccounts.User"/>; <see cref="As"/> signs as another account, <see cref="Operator"/> as the silo's
/// operator, <see cref="Unsigned"/> not at all.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    // Generous: on a 2-core machine shared with builds a silo has taken over a minute to join.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, Lazy<Task>> _funded = new(StringComparer.Ordinal);

    // Treasury nonces: one increasing counter for the test process (silos of one cluster share the treasury's
    // account), taken one funding at a time so they reach the account in order.
    private static readonly SemaphoreSlim Funding = new(1, 1);
    private static long s_treasuryNonce = DateTime.UtcNow.Ticks / 10;
    private readonly StringBuilder _output = new();
    private readonly string _dataDirectory;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private Ed25519KeyPair? _operatorKey;
    private bool _disposed;
    private HttpClient? _operator;

    private SiloProcess(Process process, Uri baseAddress, string dataDirectory)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        Unsigned = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Http = As(TestAccounts.User);
    }

    public Uri BaseAddress { get; }

    /// <summary>The gRPC endpoint (<c>--grpc-urls</c>, h2c), e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string GrpcAddress { get; private init; } = "";

    /// <summary>The process's data directory (its operator key is <c>operator.key</c> there).</summary>
    public string DataDirectory => _dataDirectory;

    /// <summary>Signs as <see cref="TestAccounts.User"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>Sends requests as they are, unsigned.</summary>
    public HttpClient Unsigned { get; }

    /// <summary>The did:key of <see cref="Http"/>'s account.</summary>
    public static string UserDid => TestAccounts.Did(TestAccounts.User);

    /// <summary>The silo's own operator key (DATA/operator.key, created at its first start).</summary>
    public Ed25519KeyPair OperatorKey => _operatorKey ??= KeyFile.LoadOrCreate(Path.Combine(_dataDirectory, "operator.key"));

    /// <summary>Signs as the silo's operator.</summary>
    public HttpClient Operator => _operator ??= SigningClient(OperatorKey);

    /// <summary>A client that signs as the test account called <paramref name="name"/> (the same client each time).</summary>
    public HttpClient As(string name) => _clients.GetOrAdd(name, n => SigningClient(TestAccounts.Key(n)));

    /// <summary>A new client that signs with <paramref name="key"/>; the caller disposes it.</summary>
    public HttpClient SigningClient(Ed25519KeyPair key) =>
        new(new SigningHandler(new RequestSigner(key)) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The silo's process id (benchmarks read its CPU time from /proc).</summary>
    public int ProcessId => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Gives <paramref name="account"/> (the test user by default) <paramref name="amount"/> micro-xmbl.c once per process
    /// (later calls do nothing): minted by the test treasury and transferred, as an operator would fund an account.
    /// </summary>
    public Task FundAsync(string? account = null, long amount = 1_000_000_000_000_000)
    {
        // Concurrent callers wait for the one funding (their jobs need the credits to be there).
        var funding = _funded.GetOrAdd(account ?? UserDid, a => new Lazy<Task>(() => MintAndSendAsync(a, amount)));
        return funding.Value;
    }

    private async Task MintAndSendAsync(string account, long amount)
    {
        var treasury = As(TestAccounts.Treasury);
        await Funding.WaitAsync();
        try
        {
            var nonce = ++s_treasuryNonce;
            using (var minted = await treasury.PostAsJsonAsync(new Uri("/api/mint", UriKind.Relative), new { amount, nonce = nonce * 2 }))
            {
                Assert.True(minted.IsSuccessStatusCode, $"mint answered {(int)minted.StatusCode}: {await minted.Content.ReadAsStringAsync()}");
            }

            using var sent = await treasury.PostAsJsonAsync(new Uri("/api/transfers", UriKind.Relative), new { to = account, amount, nonce = (nonce * 2) + 1 });
            Assert.True(sent.IsSuccessStatusCode, $"transfer answered {(int)sent.StatusCode}: {await sent.Content.ReadAsStringAsync()}");
        }
        finally
        {
            Funding.Release();
        }
    }

    /// <summary>Starts a silo and waits until /healthz answers.</summary>
    public static Task<SiloProcess> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartHealthyAsync(port => Launch(dataDirectory, port, extraArgs));

    /// <summary>
    /// Launches with free ports and waits until healthy. Free ports are only free when chosen: another test's process
    /// can take one before this one binds it, so a start that fails on an address in use is tried again on new ports.
    /// </summary>
    public static async Task<SiloProcess> StartHealthyAsync(Func<int, SiloProcess> launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        for (var attempt = 1; ; attempt++)
        {
            var process = launch(TcpPorts.Free());
            try
            {
                await process.WaitHealthyAsync();
                return process;
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                await process.DisposeAsync();
            }
            catch
            {
                // A process too slow to start must not outlive the test that gave up on it.
                await process.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Starts a silo without waiting for it to become healthy (for start-up failure tests).</summary>
    public static SiloProcess Launch(string dataDirectory, int port, params string[] extraArgs) =>
        Launch(ProgramDll("Silo", "Xmbl.Cluster.Silo.dll"), orleansPorts: true, dataDirectory, port, extraArgs);

    /// <summary>Starts <paramref name="dll"/> (a silo or a gateway) with <c>--urls</c> and <c>--data</c>; <paramref name="orleansPorts"/> adds free silo and gateway ports.</summary>
    public static SiloProcess Launch(string dll, bool orleansPorts, string dataDirectory, int port, string[] extraArgs)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var arguments = new List<string> { "--urls", baseAddress.ToString().TrimEnd('/'), "--data", dataDirectory };
        // Orleans' ports: free ones, so silos of parallel tests never collide (a test may name its own).
        foreach (var (flag, value) in new[] { ("--silo-port", TcpPorts.Free()), ("--gateway-port", TcpPorts.Free()) })
        {
            if (orleansPorts && !extraArgs.Contains(flag))
            {
                arguments.Add(flag);
                arguments.Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        arguments.AddRange(extraArgs);
        return Launch(dll, baseAddress, dataDirectory, arguments, environment: null);
    }

    /// <summary>Starts <paramref name="dll"/> with exactly <paramref name="args"/> and <paramref name="environment"/> added to the test's environment.</summary>
    /// <param name="dll">The program.</param>
    /// <param name="baseAddress">Where it will answer (its URL setting must agree).</param>
    /// <param name="dataDirectory">Its data directory (where its operator key is).</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="environment">Variables to set, or null.</param>
    public static SiloProcess Launch(string dll, Uri baseAddress, string dataDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        // The gRPC port (by default the HTTP port plus one, which another test's process may hold): a free one, unless
        // the test names it.
        var list = args as IReadOnlyList<string> ?? [.. args];
        var grpcIndex = list.ToList().IndexOf("--grpc-urls");
        string grpcUrl;
        if (grpcIndex >= 0 && grpcIndex + 1 < list.Count)
        {
            grpcUrl = list[grpcIndex + 1];
        }
        else if (environment is not null && environment.TryGetValue("XMBL_GRPC_URLS", out var fromEnvironment))
        {
            grpcUrl = fromEnvironment;
        }
        else
        {
            grpcUrl = $"http://127.0.0.1:{TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            info.ArgumentList.Add("--grpc-urls");
            info.ArgumentList.Add(grpcUrl);
        }

        foreach (var arg in list)
        {
            info.ArgumentList.Add(arg);
        }

        // Every test cluster has a treasury (a test's own --Xmbl:Ledger:Treasury wins), so tests fund the accounts
        // whose jobs hold escrow through the real mint (FundAsync).
        info.Environment["Xmbl__Ledger__Treasury"] = TestAccounts.Did(TestAccounts.Treasury);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, baseAddress, dataDirectory) { GrpcAddress = grpcUrl };
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Waits until this silo's cluster view shows at least <paramref name="count"/> live nodes. A silo is healthy
    /// before its nodes' first heartbeats are in the registry, and placement and scheduling use only live nodes, so a
    /// test that needs every node to take part waits for this first.
    /// </summary>
    public async Task WaitForLiveNodesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? StartTimeout);
        var alive = 0;
        while (DateTime.UtcNow < deadline)
        {
            var cluster = await GetJsonAsync("/api/cluster");
            alive = cluster.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("status").GetString() == "alive");
            if (alive >= count)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{alive} live node(s) in the cluster view, {count} expected.");
    }

    /// <summary>Sends SIGINT (Ctrl+C) and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            if (sys_kill(_process.Id, Sigint) != 0)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once, as a crash or power cut would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The process did not exit within {timeout}. Output:\n{Output}");
        }
    }

    /// <summary>Kills the process if it still runs and frees its clients; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        Unsigned.Dispose();
        _operator?.Dispose();
        _operatorKey?.Dispose();
        _process.Dispose();
    }

    public async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with code {_process.ExitCode} before it was healthy. Output:\n{Output}");
            }

            try
            {
                using var response = await Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        // Not left running behind a failed test.
        _process.Kill(entireProcessTree: true);
        throw new TimeoutException($"The process was not healthy within {StartTimeout}. Output:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>The built <paramref name="dll"/> of src/<paramref name="project"/>.</summary>
    public static string ProgramDll(string project, string dll)
    {
        // Same configuration as the tests themselves (Debug or Release), found from the repository root.
        var configuration = typeof(SiloProcess).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Xmbl.Cluster.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException("Cannot find the repository root (Xmbl.Cluster.sln) above the test binaries.");
        }

        var path = Path.Combine(directory.FullName, "src", project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build src/{project} first; {path} is missing.", path);
    }

    private const int Sigint = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int sys_kill(int pid, int signal);
}
