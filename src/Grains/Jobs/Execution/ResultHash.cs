using System.Buffers.Binary;
using System.Security.Cryptography;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The proof of a run: SHA-256 over output ‖ exit code (int32 LE) ‖ fuel (int64 LE) ‖ outcome (one byte).</summary>
/// <remarks>The outcome byte keeps a trap and a clean exit with the same output and code apart.</remarks>
internal static class ResultHash
{
    public static string Compute(ReadOnlySpan<byte> output, int exitCode, long fuel, RunOutcome outcome)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(output);
        Span<byte> tail = stackalloc byte[13];
        BinaryPrimitives.WriteInt32LittleEndian(tail, exitCode);
        BinaryPrimitives.WriteInt64LittleEndian(tail[4..], fuel);
        tail[12] = (byte)outcome;
        hash.AppendData(tail);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }
}
