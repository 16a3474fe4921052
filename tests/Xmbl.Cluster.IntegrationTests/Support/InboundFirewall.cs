using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>
/// An nftables table made by a test: new inbound TCP connections to some ports are refused (TCP reset) unless they come
/// from the one address that stands for the machine itself, as a home router's NAT refuses connections from outside.
/// Connections the process opens outward, and their replies, pass. Dispose removes the table.
/// </summary>
internal sealed class InboundFirewall : IDisposable
{
    private static int s_tables;
    private readonly string _table;

    private InboundFirewall(string table) => _table = table;

    /// <summary>Why the firewall cannot be made here (not Linux, not root, no <c>nft</c>); null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "closing a silo's inbound ports needs Linux nftables";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "closing a silo's inbound ports needs root (nftables); run the tests as root, as CI does";
        }

        if (Nft() is null)
        {
            return "closing a silo's inbound ports needs the nft command (apt-get install nftables; .ci/run installs it)";
        }

        var (exit, _, error) = Run("list tables");
        return exit == 0 ? null : $"nft cannot list tables here (exit {exit}): {error.Trim()}";
    }

    /// <summary>Refuses new connections to <paramref name="ports"/> from anywhere but <paramref name="inside"/>.</summary>
    public static InboundFirewall Close(IPAddress inside, params int[] ports)
    {
        var table = string.Create(CultureInfo.InvariantCulture, $"xmbl_test_nat_{Environment.ProcessId}_{Interlocked.Increment(ref s_tables)}");
        var portSet = string.Join(", ", ports.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        var script = $$"""
            table inet {{table}} {
              chain input {
                type filter hook input priority filter - 10; policy accept;
                tcp dport { {{portSet}} } ip saddr != {{inside}} ct state new reject with tcp reset
              }
            }
            """;
        var (exit, _, error) = Run("-f -", script);
        Assert.True(exit == 0, $"nft could not make table {table} (exit {exit}): {error}");
        return new InboundFirewall(table);
    }

    /// <summary>Removes the table.</summary>
    public void Dispose() => Run($"delete table inet {_table}");

    private static string? Nft() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, "nft")).FirstOrDefault(File.Exists);

    private static (int Exit, string Output, string Error) Run(string arguments, string? input = null)
    {
        var info = new ProcessStartInfo(Nft() ?? "nft", arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        process.StandardInput.Write(input ?? "");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }
}
