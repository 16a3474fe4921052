namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>An open regular file. I/O is positional: the WASI layer keeps each descriptor's offset.</summary>
/// <remarks>Used by one guest thread at a time; implementations need not be thread-safe per instance.</remarks>
public interface IWasiFile : IDisposable
{
    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="offset">Position in the file.</param>
    /// <param name="bytesRead">How many bytes were read; 0 at or past the end.</param>
    /// <returns>Success or the error.</returns>
    WasiErrno Read(Span<byte> buffer, long offset, out int bytesRead);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>, extending the file if needed.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="offset">Position in the file (past the end leaves a zero-filled gap).</param>
    /// <returns>Success or the error.</returns>
    WasiErrno Write(ReadOnlySpan<byte> data, long offset);

    /// <summary>Truncates or zero-extends the file.</summary>
    /// <param name="length">The new length.</param>
    /// <returns>Success or the error.</returns>
    WasiErrno SetLength(long length);

    /// <summary>Makes written data durable (as far as the implementation can).</summary>
    /// <returns>Success or the error.</returns>
    WasiErrno Flush();

    /// <summary>The file's current attributes.</summary>
    /// <param name="stat">The attributes.</param>
    /// <returns>Success or the error.</returns>
    WasiErrno GetStat(out WasiFileStat stat);
}
