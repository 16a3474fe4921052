using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Services;

/// <summary>
/// The <c>/output</c> directory: an in-memory tree with the output cap, which remembers a write refused for lack of
/// room, so a module that ignores the error (C's buffered stdio does) still fails instead of leaving a short output.
/// </summary>
internal sealed class OutputFileSystem(long capacityBytes) : IWasiFileSystem
{
    private readonly InMemoryWasiFileSystem _inner = new(capacityBytes);
    private volatile bool _overflowed;

    public bool Overflowed => _overflowed;

    public InMemoryWasiFileSystem Files => _inner;

    public WasiErrno GetStat(string path, out WasiFileStat stat) => _inner.GetStat(path, out stat);

    public WasiErrno OpenFile(string path, WasiOpenFlags flags, out IWasiFile? file)
    {
        var errno = _inner.OpenFile(path, flags, out var inner);
        file = inner is null ? null : new File(inner, this);
        return errno;
    }

    public WasiErrno ReadDirectory(string path, out IReadOnlyList<WasiDirectoryEntry> entries) => _inner.ReadDirectory(path, out entries);

    public WasiErrno CreateDirectory(string path) => _inner.CreateDirectory(path);

    public WasiErrno RemoveDirectory(string path) => _inner.RemoveDirectory(path);

    public WasiErrno DeleteFile(string path) => _inner.DeleteFile(path);

    public WasiErrno Rename(string from, string to) => _inner.Rename(from, to);

    private sealed class File(IWasiFile inner, OutputFileSystem owner) : IWasiFile
    {
        public WasiErrno Read(Span<byte> buffer, long offset, out int bytesRead) => inner.Read(buffer, offset, out bytesRead);

        public WasiErrno Write(ReadOnlySpan<byte> data, long offset) => Note(inner.Write(data, offset));

        public WasiErrno SetLength(long length) => Note(inner.SetLength(length));

        public WasiErrno Flush() => inner.Flush();

        public WasiErrno GetStat(out WasiFileStat stat) => inner.GetStat(out stat);

        public void Dispose() => inner.Dispose();

        private WasiErrno Note(WasiErrno errno)
        {
            if (errno == WasiErrno.NoSpc)
            {
                owner._overflowed = true;
            }

            return errno;
        }
    }
}
