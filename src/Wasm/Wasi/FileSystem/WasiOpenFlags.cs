namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>How <see cref="IWasiFileSystem.OpenFile"/> opens a regular file.</summary>
[Flags]
public enum WasiOpenFlags
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>Reading is allowed.</summary>
    Read = 1,

    /// <summary>Writing is allowed.</summary>
    Write = 2,

    /// <summary>Create the file if it does not exist.</summary>
    Create = 4,

    /// <summary>With <see cref="Create"/>: fail with <see cref="WasiErrno.Exist"/> if it exists.</summary>
    Exclusive = 8,

    /// <summary>Truncate the file to zero length.</summary>
    Truncate = 16,
}
