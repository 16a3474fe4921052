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
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _dataDirectory;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private Ed25519KeyPair? _operatorKey;
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

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts a silo and waits until /healthz answers.</summary>
    public static async Task<SiloProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var silo = Launch(dataDirectory, TcpPorts.Free(), extraArgs);
        await silo.WaitHealthyAsync();
        return silo;
    }

    /// <summary>Starts a silo without waiting for it to become healthy (for start-up failure tests).</summary>
    public static SiloProcess Launch(string dataDirectory, int port, params string[] extraArgs) =>
        Launch(ProgramDll("Silo", "Xmbl.Cluster.Silo.dll"), orleansPorts: true, dataDirectory, port, extraArgs);

    /// <summary>Starts <paramref name="dll"/> (a silo or a gateway) with <c>--urls</c> and <c>--data</c>; <paramref name="orleansPorts"/> adds free silo and gateway ports.</summary>
    public static SiloProcess Launch(string dll, bool orleansPorts, string dataDirectory, int port, string[] extraArgs)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        info.ArgumentList.Add("--data");
        info.ArgumentList.Add(dataDirectory);
        // Orleans' ports: free ones, so silos of parallel tests never collide (a test may name its own).
        foreach (var (flag, value) in new[] { ("--silo-port", TcpPorts.Free()), ("--gateway-port", TcpPorts.Free()) })
        {
            if (orleansPorts && !extraArgs.Contains(flag))
            {
                info.ArgumentList.Add(flag);
                info.ArgumentList.Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, baseAddress, dataDirectory);
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

    public async ValueTask DisposeAsync()
    {
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
