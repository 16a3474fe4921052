using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xmbl.Cluster.IntegrationTests.Jobs;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>deploy/local-cluster.sh run for real: PostgreSQL, 3 silos and a gateway; SIGTERM stops and removes everything.</summary>
/// <remarks>In the PostgreSQL collection, though it starts its own server: its five processes then never compete with
/// another test's silos for this machine's cores.</remarks>
[Trait("Suite", "Postgres")]
[Collection(Support.PostgresCollection.Name)]
public sealed partial class LocalClusterScriptTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task LocalClusterScript_StartsThreeSilosAndAGateway_AndSigtermStopsEveryProcessAndFreesThePorts()
    {
        var portBase = FreePortRange(31);
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Repository.PathOf("deploy/local-cluster.sh"), "--port-base", portBase.ToString(CultureInfo.InvariantCulture), "--configuration", Repository.Configuration, "--no-build" })
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var gatewayLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var script = new Process { StartInfo = info };
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (line.StartsWith("gateway: http://", StringComparison.Ordinal))
            {
                gatewayLine.TrySetResult(line);
            }
        }

        script.OutputDataReceived += (_, e) => Append(e.Data);
        script.ErrorDataReceived += (_, e) => Append(e.Data);
        script.Start();
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            var exited = script.WaitForExitAsync();
            var first = await Task.WhenAny(gatewayLine.Task, exited, Task.Delay(StartTimeout));
            Assert.True(first == gatewayLine.Task, $"No 'gateway: http://…' line within {StartTimeout}. Output:\n{Output()}");

            var gateway = new Uri(GatewayUrl().Match(await gatewayLine.Task).Value);
            Assert.Equal(portBase, gateway.Port);
            var lines = Output();
            var pids = Pid().Matches(lines).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            var root = DataLine().Match(lines).Groups[1].Value;
            Assert.Equal(5, pids.Count); // postgres, 3 silos, the gateway
            Assert.True(Directory.Exists(root), lines);

            // Through the gateway: the 3 silos' nodes, and a job run on them.
            using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
            using var cluster = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/cluster", UriKind.Relative)));
            var nodes = cluster.RootElement.GetProperty("nodes").EnumerateArray().ToList();
            Assert.Equal(["silo1", "silo2", "silo3"], nodes.Select(n => n.Text("siloId")).Order(StringComparer.Ordinal));
            Assert.All(nodes, n => Assert.Equal("alive", n.Text("status")));

            var silos = cluster.RootElement.GetProperty("silos").EnumerateArray().Where(x => x.Text("status") == "Active").Select(x => x.Text("id"));
            Assert.Equal(["silo1", "silo2", "silo3"], silos.Order(StringComparer.Ordinal));

            var ports = Enumerable.Range(0, 31).Select(i => portBase + i).Where(p => Listening(p)).ToList();
            Assert.Contains(portBase, ports);

            Assert.Equal(0, Kill(script.Id, Sigterm));
            await script.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);
            Assert.Contains("local-cluster: stopped", Output(), StringComparison.Ordinal);

            // A daemon's exit (PostgreSQL's postmaster) is seen a moment after pg_ctl returns.
            foreach (var pid in pids)
            {
                for (var wait = 0; wait < 100 && Alive(pid); wait++)
                {
                    await Task.Delay(100);
                }

                Assert.False(Alive(pid), $"Process {pid} is still running after the script stopped. Output:\n{Output()}");
            }

            foreach (var port in ports)
            {
                Assert.False(Listening(port), $"Port {port} is still in use after the script stopped.");
            }

            Assert.False(Directory.Exists(root), $"{root} was not removed.");
        }
        finally
        {
            if (!script.HasExited)
            {
                Kill(script.Id, Sigterm);
                if (!script.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    script.Kill(entireProcessTree: true);
                }
            }
        }
    }

    /// <summary>A port base whose <paramref name="count"/> ports are all free now.</summary>
    private static int FreePortRange(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var start = Random.Shared.Next(20_000, 40_000);
            if (Enumerable.Range(start, count).All(p => !Listening(p) && CanBind(p)))
            {
                return start;
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Whether the process exists and is not a zombie waiting for its (re)parent to reap it.</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex GatewayUrl();

    [GeneratedRegex(@"\(pid (\d+)")]
    private static partial Regex Pid();

    [GeneratedRegex(@"^data: (.+)$", RegexOptions.Multiline)]
    private static partial Regex DataLine();
}
