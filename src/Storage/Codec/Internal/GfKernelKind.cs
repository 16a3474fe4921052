namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>The GF(2^8) kernels, from the portable reference up to the widest SIMD path.</summary>
internal enum GfKernelKind
{
    /// <summary>Product-table lookups, one byte at a time (the reference).</summary>
    Scalar,

    /// <summary>Split-nibble tables with 128-bit byte shuffles (SSSE3 pshufb, or Arm64 NEON tbl).</summary>
    Vector128,

    /// <summary>Split-nibble tables with AVX2 vpshufb on 256-bit vectors.</summary>
    Avx2,

    /// <summary>Split-nibble tables with AVX-512BW vpshufb on 512-bit vectors.</summary>
    Avx512,

    /// <summary>GFNI affine transforms (vgf2p8affineqb) on 256-bit vectors.</summary>
    GfniAvx2,

    /// <summary>GFNI affine transforms (vgf2p8affineqb) on 512-bit vectors.</summary>
    GfniAvx512,
}
