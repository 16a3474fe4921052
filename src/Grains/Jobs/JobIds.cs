using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Job ids: 12 hex digits of Unix milliseconds, a dash, 12 random hex digits; ordinal order is submission order.</summary>
public static class JobIds
{
    /// <summary>Length of an id.</summary>
    public const int Length = 25;

    /// <summary>A new id for a job submitted at <paramref name="now"/>.</summary>
    /// <param name="now">The submission time.</param>
    /// <returns>The id.</returns>
    public static string New(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[6];
        RandomNumberGenerator.Fill(random);
        return string.Concat(TimePrefix(now), "-", Convert.ToHexStringLower(random));
    }

    /// <summary>The prefix shared by ids of jobs submitted in the same millisecond; every later id sorts after it.</summary>
    /// <param name="at">The time.</param>
    /// <returns>12 hex digits.</returns>
    public static string TimePrefix(DateTimeOffset at) => Math.Max(0, at.ToUnixTimeMilliseconds()).ToString("x12", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="id"/> has the shape of a job id.</summary>
    /// <param name="id">The text.</param>
    /// <returns>True for a well-formed id.</returns>
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length || id[12] != '-')
        {
            return false;
        }

        for (var i = 0; i < id.Length; i++)
        {
            if (i != 12 && !char.IsAsciiHexDigitLower(id[i]) && !char.IsAsciiDigit(id[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The deterministic seed of a job's WASI clock and randomness: the first 8 bytes of SHA-256 of the id.</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="salt">Distinguishes nested runs of the same job (0 for the job itself).</param>
    /// <returns>The seed.</returns>
    public static ulong Seed(string jobId, int salt = 0)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        var text = salt == 0 ? jobId : string.Concat(jobId, "/", salt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text), digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }
}
