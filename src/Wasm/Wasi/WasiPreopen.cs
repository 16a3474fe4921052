using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>A directory made visible to the guest: file descriptors 3, 4, ... in the order configured.</summary>
/// <param name="GuestPath">The name the guest sees (for example <c>.</c> or <c>/data</c>); wasi-libc matches paths
/// against it, and <c>.</c> matches every relative path.</param>
/// <param name="FileSystem">The files behind it.</param>
public sealed record WasiPreopen(string GuestPath, IWasiFileSystem FileSystem);
