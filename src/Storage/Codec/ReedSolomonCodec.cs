using System.Buffers;
using System.Runtime.CompilerServices;
using Xmbl.Cluster.Storage.Codec.Internal;

namespace Xmbl.Cluster.Storage.Codec;

/// <summary>
/// Systematic Reed-Solomon erasure codec over GF(2^8) (polynomial 0x11D, generator 2) with k data and m parity shards.
/// </summary>
/// <remarks>
/// The coding matrix is the one of Backblaze JavaReedSolomon, klauspost/reedsolomon and reed-solomon-erasure (a
/// (k+m) x k Vandermonde matrix made systematic with the inverse of its top k x k square), so shards are byte-for-byte
/// interchangeable with theirs. The multiply kernel is picked at run time (see <see cref="ActiveKernel"/>); every
/// kernel produces identical bytes. Instances are immutable apart from an internal decode-matrix cache and are safe to
/// share between threads. Encode and reconstruct do not allocate once the erasure pattern's decode matrix is cached.
/// </remarks>
public sealed class ReedSolomonCodec
{
    /// <summary>The largest k + m: shard indices must be distinct elements of GF(2^8).</summary>
    public const int MaxTotalShards = 256;

    // Memory the decode cache may hold per codec; at least MinCacheEntries patterns are kept whatever their size.
    private const long DecodeCacheBudgetBytes = 16L * 1024 * 1024;
    private const int MinCacheEntries = 4;
    private const int MaxCacheEntries = 64;

    [ThreadStatic]
    private static MemoryHandle[]? _threadHandles;

    private readonly GfMatrix _matrix;
    private readonly CodingTables _parityTables;
    private readonly DecodeMatrixCache _decodeCache;

    /// <summary>Creates a codec for <paramref name="dataShards"/> data and <paramref name="parityShards"/> parity shards.</summary>
    /// <param name="dataShards">k, at least 1.</param>
    /// <param name="parityShards">m, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">k &lt; 1, m &lt; 1 or k + m &gt; 256.</exception>
    public ReedSolomonCodec(int dataShards, int parityShards)
        : this(dataShards, parityShards, GfKernels.Best)
    {
    }

    /// <summary>Creates a codec that uses the given kernel (tests and benchmarks compare kernels with this).</summary>
    internal ReedSolomonCodec(int dataShards, int parityShards, GfKernelKind kernel)
    {
        if (dataShards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dataShards), dataShards, "A Reed-Solomon codec needs at least one data shard.");
        }

        if (parityShards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(parityShards), parityShards, "A Reed-Solomon codec needs at least one parity shard.");
        }

        if (dataShards + parityShards > MaxTotalShards)
        {
            throw new ArgumentOutOfRangeException(
                nameof(parityShards),
                parityShards,
                $"Data plus parity shards must not exceed {MaxTotalShards} in GF(2^8); got {dataShards} + {parityShards} = {dataShards + parityShards}.");
        }

        if (!GfKernels.IsSupported(kernel))
        {
            throw new NotSupportedException($"The '{GfKernels.Name(kernel)}' kernel is not supported on this machine.");
        }

        DataShards = dataShards;
        ParityShards = parityShards;
        TotalShards = dataShards + parityShards;
        Kernel = kernel;
        _matrix = GfMatrix.BuildSystematic(dataShards, TotalShards);
        _parityTables = new CodingTables(_matrix, dataShards, parityShards, kernel);

        var entryBytes = (long)TotalShards * dataShards * (GfKernels.TableStride(kernel) + 1);
        _decodeCache = new DecodeMatrixCache((int)Math.Clamp(DecodeCacheBudgetBytes / entryBytes, MinCacheEntries, MaxCacheEntries));
    }

    /// <summary>The number of data shards (k).</summary>
    public int DataShards { get; }

    /// <summary>The number of parity shards (m).</summary>
    public int ParityShards { get; }

    /// <summary>The number of shards in a stripe (k + m).</summary>
    public int TotalShards { get; }

    /// <summary>
    /// The kernel the default constructor uses on this machine: "gfni-avx512", "gfni-avx2", "avx512bw", "avx2",
    /// "ssse3/vector128" or "scalar".
    /// </summary>
    public static string ActiveKernel => GfKernels.Name(GfKernels.Best);

    /// <summary>The kernel of this instance.</summary>
    internal GfKernelKind Kernel { get; }

    /// <summary>The (k+m) x k coding matrix; its top k rows are the identity.</summary>
    internal GfMatrix Matrix => _matrix;

    /// <summary>Decode patterns currently cached.</summary>
    internal int CachedDecodePatterns => _decodeCache.Count;

    /// <summary>Computes the parity shards of a stripe.</summary>
    /// <param name="data">The k data shards, all the same length.</param>
    /// <param name="parity">The m parity buffers, the same length as the data shards; overwritten.</param>
    /// <exception cref="ArgumentException">Wrong shard count or mismatched lengths.</exception>
    [SkipLocalsInit]
    public unsafe void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity)
    {
        if (data.Length != DataShards)
        {
            throw new ArgumentException($"Expected {DataShards} data shards, got {data.Length}.", nameof(data));
        }

        if (parity.Length != ParityShards)
        {
            throw new ArgumentException($"Expected {ParityShards} parity shards, got {parity.Length}.", nameof(parity));
        }

        var length = data[0].Length;
        for (var i = 1; i < data.Length; i++)
        {
            ThrowIfLengthDiffers(data[i].Length, length, i, nameof(data));
        }

        for (var i = 0; i < parity.Length; i++)
        {
            ThrowIfLengthDiffers(parity[i].Length, length, DataShards + i, nameof(parity));
        }

        if (length == 0)
        {
            return;
        }

        var inputs = stackalloc byte*[DataShards];
        var outputs = stackalloc byte*[ParityShards];
        var tables = stackalloc byte*[ParityShards];
        var coefficients = stackalloc byte*[ParityShards];
        var handles = RentHandles();
        var pinned = 0;
        try
        {
            for (var i = 0; i < DataShards; i++)
            {
                handles[pinned] = data[i].Pin();
                inputs[i] = (byte*)handles[pinned++].Pointer;
            }

            for (var o = 0; o < ParityShards; o++)
            {
                handles[pinned] = parity[o].Pin();
                outputs[o] = (byte*)handles[pinned++].Pointer;
                tables[o] = _parityTables.ExpandedRow(o);
                coefficients[o] = _parityTables.CoefficientRow(o);
            }

            CodecDriver.Run(Kernel, inputs, DataShards, outputs, tables, coefficients, ParityShards, length);
        }
        finally
        {
            Release(handles, pinned);
        }
    }

    /// <summary>Checks that the parity shards of a complete stripe match its data shards.</summary>
    /// <param name="shards">All k + m shards (data first), the same length.</param>
    /// <returns><see langword="true"/> when every parity byte equals the one <see cref="Encode"/> would produce.</returns>
    /// <exception cref="ArgumentException">Wrong shard count or mismatched lengths.</exception>
    [SkipLocalsInit]
    public unsafe bool Verify(ReadOnlySpan<ReadOnlyMemory<byte>> shards)
    {
        if (shards.Length != TotalShards)
        {
            throw new ArgumentException($"Expected {TotalShards} shards, got {shards.Length}.", nameof(shards));
        }

        var length = shards[0].Length;
        for (var i = 1; i < shards.Length; i++)
        {
            ThrowIfLengthDiffers(shards[i].Length, length, i, nameof(shards));
        }

        if (length == 0)
        {
            return true;
        }

        // Parity is recomputed a chunk at a time into pooled scratch and compared, so memory use is bounded.
        const int VerifyChunk = 16 * 1024;
        var chunk = Math.Min(length, VerifyChunk);
        var scratch = ArrayPool<byte>.Shared.Rent(chunk * ParityShards);
        var inputBases = stackalloc byte*[DataShards];
        var inputs = stackalloc byte*[DataShards];
        var outputs = stackalloc byte*[ParityShards];
        var tables = stackalloc byte*[ParityShards];
        var coefficients = stackalloc byte*[ParityShards];
        var handles = RentHandles();
        var pinned = 0;
        try
        {
            for (var i = 0; i < DataShards; i++)
            {
                handles[pinned] = shards[i].Pin();
                inputBases[i] = (byte*)handles[pinned++].Pointer;
            }

            fixed (byte* scratchBase = scratch)
            {
                for (var o = 0; o < ParityShards; o++)
                {
                    outputs[o] = scratchBase + ((nint)o * chunk);
                    tables[o] = _parityTables.ExpandedRow(o);
                    coefficients[o] = _parityTables.CoefficientRow(o);
                }

                for (var offset = 0; offset < length; offset += chunk)
                {
                    var run = Math.Min(chunk, length - offset);
                    for (var i = 0; i < DataShards; i++)
                    {
                        inputs[i] = inputBases[i] + offset;
                    }

                    CodecDriver.Run(Kernel, inputs, DataShards, outputs, tables, coefficients, ParityShards, run);
                    for (var o = 0; o < ParityShards; o++)
                    {
                        var expected = new ReadOnlySpan<byte>(outputs[o], run);
                        if (!expected.SequenceEqual(shards[DataShards + o].Span.Slice(offset, run)))
                        {
                            return false;
                        }
                    }
                }
            }

            return true;
        }
        finally
        {
            Release(handles, pinned);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Rebuilds every missing shard (data and parity) of a stripe in place.</summary>
    /// <param name="shards">k + m buffers of the shard length; the present ones hold shard bytes, the others are overwritten.</param>
    /// <param name="present">k + m flags; <see langword="true"/> where <paramref name="shards"/> holds valid bytes.</param>
    /// <exception cref="ArgumentException">Wrong counts, mismatched lengths, or fewer than k shards present.</exception>
    public void Reconstruct(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present)
        => ReconstructCore(shards, present, TotalShards);

    /// <summary>Rebuilds only the missing data shards in place; missing parity buffers are left untouched.</summary>
    /// <param name="shards">k + m buffers of the shard length; the present ones hold shard bytes.</param>
    /// <param name="present">k + m flags; <see langword="true"/> where <paramref name="shards"/> holds valid bytes.</param>
    /// <exception cref="ArgumentException">Wrong counts, mismatched lengths, or fewer than k shards present.</exception>
    public void ReconstructData(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present)
        => ReconstructCore(shards, present, DataShards);

    [SkipLocalsInit]
    private unsafe void ReconstructCore(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present, int rebuildBelow)
    {
        if (shards.Length != TotalShards)
        {
            throw new ArgumentException($"Expected {TotalShards} shards, got {shards.Length}.", nameof(shards));
        }

        if (present.Length != TotalShards)
        {
            throw new ArgumentException($"Expected {TotalShards} presence flags, got {present.Length}.", nameof(present));
        }

        var length = shards[0].Length;
        for (var i = 1; i < shards.Length; i++)
        {
            ThrowIfLengthDiffers(shards[i].Length, length, i, nameof(shards));
        }

        // The first k present shards are the decode inputs; which k we pick does not change the result (MDS code),
        // and picking the lowest indices prefers data shards, whose decode rows are mostly identity.
        var chosen = stackalloc int[DataShards];
        var chosenCount = 0;
        var missingCount = 0;
        var presentCount = 0;
        var key = default(RowSet);
        for (var i = 0; i < TotalShards; i++)
        {
            if (present[i])
            {
                presentCount++;
                if (chosenCount < DataShards)
                {
                    chosen[chosenCount++] = i;
                    key = key.With(i);
                }
            }
            else if (i < rebuildBelow)
            {
                missingCount++;
            }
        }

        if (presentCount < DataShards)
        {
            throw new ArgumentException(
                $"Reconstruction needs at least {DataShards} of {TotalShards} shards; only {presentCount} are present.", nameof(present));
        }

        if (missingCount == 0 || length == 0)
        {
            return;
        }

        var decode = _decodeCache.GetOrAdd(key, this, static (codec, rows) => codec.BuildDecodeTables(rows));

        var inputs = stackalloc byte*[DataShards];
        var outputs = stackalloc byte*[missingCount];
        var tables = stackalloc byte*[missingCount];
        var coefficients = stackalloc byte*[missingCount];
        var handles = RentHandles();
        var pinned = 0;
        try
        {
            for (var i = 0; i < DataShards; i++)
            {
                handles[pinned] = shards[chosen[i]].Pin();
                inputs[i] = (byte*)handles[pinned++].Pointer;
            }

            var o = 0;
            for (var i = 0; i < rebuildBelow; i++)
            {
                if (!present[i])
                {
                    handles[pinned] = shards[i].Pin();
                    outputs[o] = (byte*)handles[pinned++].Pointer;
                    var row = decode.Row(i);
                    tables[o] = row.ExpandedRow(0);
                    coefficients[o] = row.CoefficientRow(0);
                    o++;
                }
            }

            CodecDriver.Run(Kernel, inputs, DataShards, outputs, tables, coefficients, missingCount, length);
        }
        finally
        {
            Release(handles, pinned);
            GC.KeepAlive(decode);
        }
    }

    /// <summary>Builds the decoder for reading from the k shards in <paramref name="rows"/>.</summary>
    private DecodeTables BuildDecodeTables(RowSet rows)
    {
        Span<int> survivors = stackalloc int[DataShards];
        var count = 0;
        for (var i = 0; i < TotalShards && count < DataShards; i++)
        {
            if (rows.Contains(i))
            {
                survivors[count++] = i;
            }
        }

        return new DecodeTables(_matrix, survivors, Kernel);
    }

    private static void ThrowIfLengthDiffers(int actual, int expected, int index, string parameter)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"All shards must have the same length: shard {index} is {actual} bytes, shard 0 is {expected}.", parameter);
        }
    }

    // One pin-handle array per thread, taken out of the slot while in use (so a re-entrant call gets its own). Not
    // ArrayPool: the shared pool trims itself on gen-2 GCs, which would make the hot path allocate now and then.
    private static MemoryHandle[] RentHandles()
    {
        var handles = _threadHandles ?? new MemoryHandle[MaxTotalShards];
        _threadHandles = null;
        return handles;
    }

    private static void Release(MemoryHandle[] handles, int count)
    {
        for (var i = 0; i < count; i++)
        {
            handles[i].Dispose();
        }

        Array.Clear(handles, 0, count);
        _threadHandles = handles;
    }
}
