namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// A GF(2^8) dot-product kernel. Implementations are structs so the generic driver
/// (<see cref="CodecDriver.Run{TKernel}"/>) is specialised per kernel and every member below is a JIT-time constant
/// or a direct call (no virtual dispatch on the hot path).
/// </summary>
internal unsafe interface IGfKernel
{
    /// <summary>Whether the current CPU and runtime can execute this kernel.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Bytes of pre-expanded table per matrix coefficient (see <see cref="Expand"/>).</summary>
    static abstract int TableStride { get; }

    /// <summary>The smallest length the kernel accepts (its vector width); shorter runs go to the scalar kernel.</summary>
    static abstract int MinLength { get; }

    /// <summary>The most output rows one <see cref="DotProduct"/> call accumulates in registers.</summary>
    static abstract int MaxOutputs { get; }

    /// <summary>Writes the kernel's lookup form of "multiply by <paramref name="coefficient"/>" (TableStride bytes).</summary>
    static abstract void Expand(byte coefficient, Span<byte> destination);

    /// <summary>
    /// For each output row o &lt; <paramref name="outputCount"/> (at most MaxOutputs) and each byte position p in
    /// [offset, offset + length): outputs[o][p] = XOR over i of coef(o, i) * inputs[i][p].
    /// <paramref name="tables"/>[o] points at row o's inputCount expanded coefficients. Outputs are overwritten, not
    /// accumulated into, so a kernel may recompute overlapping positions (used to finish unaligned tails).
    /// <paramref name="length"/> is at least MinLength.
    /// </summary>
    static abstract void DotProduct(byte** inputs, int inputCount, byte** outputs, byte** tables, int outputCount, nint offset, nint length);
}
