using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Benchmarks.Silo;

/// <summary>
/// Embedded silo start to healthy: launches the built silo (<c>dotnet src/Silo/bin/Release/net10.0/Xmbl.Cluster.Silo.dll</c>)
/// as a real process and times process start to the first 200 on <c>/healthz</c>, polled every 5 ms. Each round starts
/// once on an empty data directory and once on a populated one (the directory a previous start created and left after
/// a clean stop: SQLite schema, grain state of the nodes, node and operator keys). Prints median, min and max.
/// </summary>
/// <remarks>Usage: <c>silo-start [--runs 5] [--silo-dll PATH]</c>. Every silo is stopped with SIGINT before the next.</remarks>
public static class SiloStart
{
    public const string Switch = "silo-start";

    private const int Sigint = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(BenchArgs.Text(args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        var dll = Path.GetFullPath(BenchArgs.Text(args, "--silo-dll") ?? Path.Combine("src", "Silo", "bin", "Release", "net10.0", "Xmbl.Cluster.Silo.dll"));
        if (!File.Exists(dll))
        {
            Console.Error.WriteLine($"{dll} is missing: build it first (dotnet build src/Silo -c Release) or pass --silo-dll.");
            return 2;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var root = Directory.CreateTempSubdirectory("xmbl-silo-start-");
        try
        {
            var populated = Path.Combine(root.FullName, "populated");
            await StartAndStopAsync(dll, populated, http); // creates the populated directory (not measured)
            var empty = new List<double>();
            var full = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                empty.Add(await StartAndStopAsync(dll, Path.Combine(root.FullName, "empty-" + run.ToString(CultureInfo.InvariantCulture)), http));
                full.Add(await StartAndStopAsync(dll, populated, http));
            }

            Console.WriteLine($"silo:      {dll}");
            Console.WriteLine($"runs:      {runs} per case, alternating, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
            Console.WriteLine(Line("empty data directory", empty));
            Console.WriteLine(Line("populated data directory", full));
            return 0;
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static async Task<double> StartAndStopAsync(string dll, string data, HttpClient http)
    {
        var port = TcpPorts.Free();
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var (flag, value) in new[]
                 {
                     ("--data", data), ("--urls", $"http://127.0.0.1:{port}"),
                     ("--silo-port", TcpPorts.Free().ToString(CultureInfo.InvariantCulture)),
                     ("--gateway-port", TcpPorts.Free().ToString(CultureInfo.InvariantCulture)),
                 })
        {
            info.ArgumentList.Add(flag);
            info.ArgumentList.Add(value);
        }

        var health = new Uri($"http://127.0.0.1:{port}/healthz");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"The silo exited with code {process.ExitCode} before it was healthy.");
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException("The silo was not healthy within 60 s.");
                }

                try
                {
                    using var response = await http.GetAsync(health);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return clock.Elapsed.TotalMilliseconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(5);
            }
        }
        finally
        {
            _ = sys_kill(process.Id, Sigint);
            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string Line(string label, List<double> ms)
    {
        var sorted = ms.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{label + ":",-26} median {sorted[sorted.Length / 2]:F0} ms, min {sorted[0]:F0} ms, max {sorted[^1]:F0} ms ({string.Join(", ", ms.Select(m => m.ToString("F0", CultureInfo.InvariantCulture)))})");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int sys_kill(int pid, int signal);
}
