using Microsoft.Extensions.Options;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Options;

/// <summary>Checks <see cref="P2POptions"/> at startup; each message names the key and the fix.</summary>
public sealed class P2POptionsValidator : IValidateOptions<P2POptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, P2POptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var address in options.ListenAddresses)
        {
            if (!Multiaddr.TryParse(address, out var parsed) || !parsed!.TryGetTcpTarget(out _, out _, out _) || parsed.PeerId is not null)
            {
                failures.Add($"P2P:ListenAddresses: '{address}' is not a TCP multiaddr such as /ip4/0.0.0.0/tcp/4001.");
            }
        }

        Positive(failures, "P2P:MaxConnections", options.MaxConnections);
        Positive(failures, "P2P:MaxPendingHandshakes", options.MaxPendingHandshakes);
        Positive(failures, "P2P:MaxInboundStreams", options.MaxInboundStreams);
        Positive(failures, "P2P:MaxOutboundStreams", options.MaxOutboundStreams);
        Positive(failures, "P2P:MaxControlBacklog", options.MaxControlBacklog);
        PositiveTime(failures, "P2P:HandshakeTimeout", options.HandshakeTimeout);
        PositiveTime(failures, "P2P:IdleTimeout", options.IdleTimeout);
        PositiveTime(failures, "P2P:StreamNegotiationTimeout", options.StreamNegotiationTimeout);
        PositiveTime(failures, "P2P:KeepAliveInterval", options.KeepAliveInterval);
        if (options.StreamReceiveWindow is < P2POptions.InitialStreamWindow or > P2POptions.MaxStreamReceiveWindow)
        {
            failures.Add($"P2P:StreamReceiveWindow: {options.StreamReceiveWindow} is outside {P2POptions.InitialStreamWindow}..{P2POptions.MaxStreamReceiveWindow} bytes.");
        }

        if (string.IsNullOrWhiteSpace(options.AgentVersion) || options.AgentVersion.Length > 256)
        {
            failures.Add("P2P:AgentVersion: give 1 to 256 characters, such as 'xmbl-cluster/1.0'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, int value)
    {
        if (value <= 0)
        {
            failures.Add($"{key}: {value} must be at least 1.");
        }
    }

    private static void PositiveTime(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key}: {value} must be a positive time span such as 00:00:10.");
        }
    }
}
