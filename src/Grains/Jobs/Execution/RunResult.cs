using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>What one run produced.</summary>
/// <param name="Output">Standard output (or the returned values as text).</param>
/// <param name="ExitCode">The exit code; for outcomes other than an exit, the code in <see cref="ExitCodes"/>.</param>
/// <param name="Fuel">Fuel used, nested runs included.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Detail">The trap or failure message.</param>
internal sealed record RunResult(byte[] Output, int ExitCode, long Fuel, RunOutcome Outcome, string? Detail);

/// <summary>Exit codes of runs that did not exit by themselves, after shell conventions.</summary>
internal static class ExitCodes
{
    /// <summary>The module trapped or ran out of fuel or memory (like SIGABRT: 128 + 6).</summary>
    public const int Trapped = 134;

    /// <summary>The module could not be run (like a shell's "cannot execute").</summary>
    public const int Invalid = 126;

    /// <summary>The wall-clock limit was reached (like timeout(1)).</summary>
    public const int WallTime = 124;

    /// <summary>The module wrote past the output cap (like SIGXFSZ, file size limit exceeded: 128 + 25).</summary>
    public const int OutputLimit = 153;
}
