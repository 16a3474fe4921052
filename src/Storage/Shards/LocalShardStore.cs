using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Shards;

/// <summary>
/// The file-system shard store of one node: shard files spread over volumes (directories) and a local SQLite index
/// of shard id → volume, size, SHA-256 and creation time.
/// </summary>
/// <remarks>
/// Layout per volume: <c>shards/&lt;first two id chars&gt;/&lt;id&gt;</c> for shard files and <c>tmp/</c> for writes in
/// progress (emptied on open). A new shard goes, among the volumes with room for it, to the one with the fewest writes
/// in flight and then the fewest used bytes, so concurrent writes of one stripe to one node land on distinct volumes.
/// </remarks>
public sealed class LocalShardStore : IShardStore, IDisposable
{
    private const int CopyBufferSize = 256 * 1024;
    private const int ListPageSize = 1000;

    private readonly Volume[] _volumes;
    private readonly Dictionary<string, Volume> _volumesByName;
    private readonly SqliteConnection _index;
    private readonly SemaphoreSlim _indexLock = new(1, 1);
    private readonly List<PendingShard> _commitQueue = [];
    private readonly Lock _spaceLock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _disposed;

    /// <summary>Opens (creating when needed) a store over <paramref name="volumes"/>.</summary>
    /// <param name="volumes">The volumes; at least one.</param>
    /// <param name="indexPath">The SQLite index file; default <c>shard-index.db</c> in the first volume.</param>
    /// <param name="timeProvider">The clock for creation times; default the system clock.</param>
    /// <param name="logger">Where to report cleanup and scrub findings.</param>
    public LocalShardStore(IEnumerable<StorageVolumeOptions> volumes, string? indexPath = null, TimeProvider? timeProvider = null, ILogger<LocalShardStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _volumes = volumes.Select(v => new Volume(v)).ToArray();
        if (_volumes.Length == 0)
        {
            throw new ArgumentException("A shard store needs at least one volume.", nameof(volumes));
        }

        _volumesByName = new Dictionary<string, Volume>(StringComparer.Ordinal);
        foreach (var v in _volumes)
        {
            if (!_volumesByName.TryAdd(v.Name, v))
            {
                throw new ArgumentException($"Volume name '{v.Name}' is used twice.", nameof(volumes));
            }

            Directory.CreateDirectory(v.ShardsDirectory);
            Directory.CreateDirectory(v.TempDirectory);
            // Leftovers of writes cut off by a crash: never renamed, so never visible.
            var removed = 0;
            foreach (var tmp in Directory.EnumerateFiles(v.TempDirectory))
            {
                File.Delete(tmp);
                removed++;
            }

            if (removed > 0)
            {
                StorageLog.TempFilesRemoved(_logger, v.Name, removed);
            }
        }

        IndexPath = Path.GetFullPath(indexPath ?? Path.Combine(_volumes[0].Path, "shard-index.db"));
        Directory.CreateDirectory(Path.GetDirectoryName(IndexPath)!);
        _index = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = IndexPath, Pooling = false }.ToString());
        _index.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS shards (
                id TEXT NOT NULL PRIMARY KEY,
                volume TEXT NOT NULL,
                size INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                created_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            """);
        using var cmd = _index.CreateCommand();
        cmd.CommandText = "SELECT volume, COUNT(*), COALESCE(SUM(size), 0) FROM shards GROUP BY volume";
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (_volumesByName.TryGetValue(reader.GetString(0), out var v))
            {
                v.Count = reader.GetInt64(1);
                v.Used = reader.GetInt64(2);
            }
        }
    }

    /// <summary>Opens a store over the volumes and index path of <paramref name="options"/>.</summary>
    public LocalShardStore(StorageOptions options, TimeProvider? timeProvider = null, ILogger<LocalShardStore>? logger = null)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Volumes, options.IndexPath, timeProvider, logger)
    {
    }

    /// <summary>The full path of the SQLite index.</summary>
    public string IndexPath { get; }

    /// <inheritdoc/>
    [SkipLocalsInit]
    public async Task<ShardInfo> PutAsync(ShardId id, Stream content, long? expectedLength = null, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var reserve = Math.Max(1, expectedLength ?? 1);
        var volume = ReserveVolume(reserve);
        var tmp = Path.Combine(volume.TempDirectory, $"{id.Value}.{Guid.NewGuid():N}.tmp");
        var buffer = content is ReadOnlyMemoryStream ? [] : ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            // The volume is reserved synchronously, the work goes on asynchronously: a caller that starts several puts
            // in a row (the shards of one stripe) has them all reserved, on distinct volumes, before any completes.
            await Task.Yield();
            long length = 0;
            string sha;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                if (content is ReadOnlyMemoryStream inMemory)
                {
                    // The object pipeline hands over a slice of its stripe buffer: write it straight from there.
                    var memory = inMemory.TakeRemaining();
                    length = memory.Length;
                    if (length > expectedLength)
                    {
                        throw new ShardCorruptException(id, expectedSha256 ?? "(any)", null, $"more than the announced {expectedLength} bytes arrived");
                    }

                    // The writer hashed exactly these bytes a moment ago in this process: hashing them again would
                    // check nothing that crossed a boundary (bytes from the network or a file are always hashed).
                    if (inMemory.ComputedSha256 is null)
                    {
                        hash.AppendData(memory.Span);
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    await DiskThreads.Run(() => WriteDurably(volume, tmp, memory.Span));
                }
                else
                {
                    length = await CopyDurablyAsync(volume, tmp, content, buffer, hash, id, expectedLength, expectedSha256, cancellationToken);
                }

                sha = content is ReadOnlyMemoryStream { ComputedSha256: { } computed } ? computed.ToLowerInvariant() : Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (expectedLength is { } expected && length != expected)
            {
                throw new ShardCorruptException(id, expectedSha256 ?? "(any)", sha, $"{length} bytes arrived instead of {expected}");
            }

            if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ShardCorruptException(id, expectedSha256, sha, "content hash differs from the announced hash");
            }

            cancellationToken.ThrowIfCancellationRequested();
            var final = volume.ShardPath(id);
            var directory = Path.GetDirectoryName(final)!;
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                // The new directory's own entry must survive a crash too, or the shards renamed into it vanish with it.
                DirectorySync.Flush(volume.ShardsDirectory);
            }

            var info = new ShardInfo(id, volume.Name, length, sha, _time.GetUtcNow());
            await CommitAsync(new PendingShard(info, volume, tmp, final));
            return info;
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            lock (_spaceLock)
            {
                volume.Pending -= reserve;
                volume.Writing--;
            }
        }
    }

    /// <summary>
    /// Renames a written, fsynced shard into place and indexes it, together with whatever other puts are waiting
    /// (group commit): one directory sync per touched directory and one SQLite commit (an fsync of its log) serve
    /// every shard of the batch instead of each paying its own.
    /// </summary>
    private async Task CommitAsync(PendingShard shard)
    {
        lock (_commitQueue)
        {
            _commitQueue.Add(shard);
        }

        await _indexLock.WaitAsync(CancellationToken.None);
        try
        {
            // While this put waited for the lock, the previous holder may have committed it in its batch.
            if (!shard.Done.Task.IsCompleted)
            {
                List<PendingShard> batch;
                lock (_commitQueue)
                {
                    batch = [.. _commitQueue];
                    _commitQueue.Clear();
                }

                await DiskThreads.Run(() => CommitBatch(batch));
            }
        }
        finally
        {
            _indexLock.Release();
        }

        await shard.Done.Task;
    }

    /// <summary>Writes <paramref name="content"/> to a new file at <paramref name="path"/> and flushes it to disk (blocking: runs on a disk thread).</summary>
    private static void WriteDurably(Volume volume, string path, ReadOnlySpan<byte> content)
    {
        // Durable before it becomes visible: the rename must never expose unflushed data.
        using (var direct = CreateDirect(volume, path))
        {
            if (direct is not null)
            {
                direct.Write(content);
                direct.Complete();
                return;
            }
        }

        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        file.Write(content);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Copies a shard arriving as a stream (from the network or a decoder) to a new file and flushes it to disk; returns its length.</summary>
    private static async Task<long> CopyDurablyAsync(Volume volume, string path, Stream content, byte[] buffer, IncrementalHash hash, ShardId id, long? expectedLength, string? expectedSha256, CancellationToken cancellationToken)
    {
        long length = 0;
        var direct = volume.DirectIo ? await DiskThreads.Run(() => CreateDirect(volume, path)) : null;
        await using var file = direct is null ? new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous) : null;
        try
        {
            int n;
            while ((n = await content.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0)
            {
                length += n;
                if (length > expectedLength)
                {
                    throw new ShardCorruptException(id, expectedSha256 ?? "(any)", null, $"more than the announced {expectedLength} bytes arrived");
                }

                hash.AppendData(buffer, 0, n);
                if (direct is null)
                {
                    await file!.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    continue;
                }

                for (var taken = 0; taken < n;)
                {
                    taken += direct.Buffer(buffer.AsSpan(taken, n - taken));
                    if (direct.ChunkFull)
                    {
                        await DiskThreads.Run(direct.WriteChunk);
                    }
                }
            }

            // Durable before it becomes visible: the rename must never expose unflushed data.
            await DiskThreads.Run(direct is null ? () => file!.Flush(flushToDisk: true) : direct.Complete);
            return length;
        }
        finally
        {
            direct?.Dispose();
        }
    }

    /// <summary>Creates <paramref name="path"/> for direct writing, or returns null when the volume writes through the page cache.</summary>
    private static DirectFile? CreateDirect(Volume volume, string path)
    {
        if (!volume.DirectIo)
        {
            return null;
        }

        var file = DirectFile.TryCreate(path);
        if (file is null)
        {
            // The file system refuses direct I/O (tmpfs, for one): stop asking.
            volume.DirectIo = false;
        }

        return file;
    }

    /// <summary>Commits <paramref name="batch"/>; called holding the index lock. Each shard's outcome goes to its <see cref="PendingShard.Done"/>.</summary>
    private void CommitBatch(List<PendingShard> batch)
    {
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var moved = new List<PendingShard>(batch.Count);
            foreach (var shard in batch)
            {
                try
                {
                    File.Move(shard.TempPath, shard.FinalPath, overwrite: true);
                    moved.Add(shard);
                }
                catch (Exception e)
                {
                    shard.Done.TrySetException(e);
                }
            }

            // The rename only changed a directory entry, and the shard file's fsync does not persist that. Without this
            // sync a crash could lose the entry (the file then lies in tmp/ and is deleted on open) while the index
            // commit below, fsynced, still names the shard, and so would the manifest committed after this put returns.
            // ext4 with its ordered journal happens to persist the rename with the index's fsync, but POSIX does not
            // promise it (nor do XFS or btrfs in every case), and one sync per directory per batch is cheap.
            foreach (var directory in moved.Select(s => Path.GetDirectoryName(s.FinalPath)!).Distinct(StringComparer.Ordinal))
            {
                DirectorySync.Flush(directory);
            }

            var previous = new ShardInfo?[moved.Count];
            using (var transaction = _index.BeginTransaction())
            using (var insert = _index.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT OR REPLACE INTO shards (id, volume, size, sha256, created_ms) VALUES ($id, $volume, $size, $sha, $created)";
                var id = insert.Parameters.Add("$id", SqliteType.Text);
                var volume = insert.Parameters.Add("$volume", SqliteType.Text);
                var size = insert.Parameters.Add("$size", SqliteType.Integer);
                var sha = insert.Parameters.Add("$sha", SqliteType.Text);
                var created = insert.Parameters.Add("$created", SqliteType.Integer);
                for (var i = 0; i < moved.Count; i++)
                {
                    var info = moved[i].Info;
                    previous[i] = ReadInfo(info.Id, transaction);
                    id.Value = info.Id.Value;
                    volume.Value = info.Volume;
                    size.Value = info.Length;
                    sha.Value = info.Sha256;
                    created.Value = info.CreatedUtc.ToUnixTimeMilliseconds();
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            for (var i = 0; i < moved.Count; i++)
            {
                var shard = moved[i];
                var old = previous[i];
                lock (_spaceLock)
                {
                    if (old is not null && _volumesByName.TryGetValue(old.Volume, out var oldVolume))
                    {
                        oldVolume.Used -= old.Length;
                        oldVolume.Count--;
                    }

                    shard.Volume.Used += shard.Info.Length;
                    shard.Volume.Count++;
                }

                if (old is not null && !string.Equals(old.Volume, shard.Volume.Name, StringComparison.Ordinal)
                    && _volumesByName.TryGetValue(old.Volume, out var replacedVolume))
                {
                    File.Delete(replacedVolume.ShardPath(shard.Info.Id));
                }

                shard.Done.TrySetResult();
            }
        }
        catch (Exception e)
        {
            foreach (var shard in batch)
            {
                shard.Done.TrySetException(e);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        var info = await GetInfoAsync(id, cancellationToken) ?? throw new ShardNotFoundException(id);
        if (!_volumesByName.TryGetValue(info.Volume, out var volume))
        {
            throw new ShardNotFoundException(id);
        }

        Stream file;
        try
        {
            var path = volume.ShardPath(id);
            var direct = volume.DirectIo ? DirectFile.TryOpenRead(path) : null;
            file = direct is not null
                ? new DiskReadStream(direct, direct: true)
                : new DiskReadStream(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ShardNotFoundException(id);
        }

        return new HashVerifyingReadStream(file, id, info.Sha256, info.Length);
    }

    /// <inheritdoc/>
    public async Task<ShardInfo?> GetInfoAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _indexLock.WaitAsync(cancellationToken);
        try
        {
            return ReadInfo(id);
        }
        finally
        {
            _indexLock.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _indexLock.WaitAsync(cancellationToken);
        try
        {
            var info = ReadInfo(id);
            if (info is null)
            {
                return false;
            }

            using (var cmd = _index.CreateCommand())
            {
                cmd.CommandText = "DELETE FROM shards WHERE id = $id";
                cmd.Parameters.AddWithValue("$id", id.Value);
                cmd.ExecuteNonQuery();
            }

            if (_volumesByName.TryGetValue(info.Volume, out var volume))
            {
                File.Delete(volume.ShardPath(id));
                lock (_spaceLock)
                {
                    volume.Used -= info.Length;
                    volume.Count--;
                }
            }

            return true;
        }
        finally
        {
            _indexLock.Release();
        }
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ShardInfo> ListAsync(CancellationToken cancellationToken = default) => ListAsync(after: null, cancellationToken);

    /// <inheritdoc/>
    public async IAsyncEnumerable<ShardInfo> ListAsync(ShardId? after, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var afterId = after?.Value ?? "";
        while (true)
        {
            var page = new List<ShardInfo>(ListPageSize);
            await _indexLock.WaitAsync(cancellationToken);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var cmd = _index.CreateCommand();
                cmd.CommandText = "SELECT id, volume, size, sha256, created_ms FROM shards WHERE id > $after ORDER BY id LIMIT $limit";
                cmd.Parameters.AddWithValue("$after", afterId);
                cmd.Parameters.AddWithValue("$limit", ListPageSize);
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    page.Add(ReadRow(reader));
                }
            }
            finally
            {
                _indexLock.Release();
            }

            foreach (var info in page)
            {
                yield return info;
            }

            if (page.Count < ListPageSize)
            {
                yield break;
            }

            afterId = page[^1].Id.Value;
        }
    }

    /// <inheritdoc/>
    public async Task<ShardScrubResult> ScrubAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        var info = await GetInfoAsync(id, cancellationToken);
        return info is null
            ? new ShardScrubResult(id, ShardHealthStatus.Missing, null, null)
            : (await ScrubFileAsync(info, cancellationToken)).Result;
    }

    /// <inheritdoc/>
    public async Task<ShardScrubReport> ScrubAllAsync(CancellationToken cancellationToken = default)
    {
        var unhealthy = new List<ShardScrubResult>();
        var known = new HashSet<(string Volume, string Id)>();
        var checkedCount = 0;
        long bytes = 0;
        await foreach (var info in ListAsync(cancellationToken))
        {
            known.Add((info.Volume, info.Id.Value));
            var (result, read) = await ScrubFileAsync(info, cancellationToken);
            checkedCount++;
            bytes += read;
            if (result.Status != ShardHealthStatus.Healthy)
            {
                unhealthy.Add(result);
            }
        }

        var orphans = new List<string>();
        foreach (var volume in _volumes)
        {
            foreach (var file in Directory.EnumerateFiles(volume.ShardsDirectory, "*", SearchOption.AllDirectories))
            {
                if (!known.Contains((volume.Name, Path.GetFileName(file))))
                {
                    // Re-check: the shard may have been written after the listing above.
                    if (!ShardId.TryParse(Path.GetFileName(file), out var id) || (await GetInfoAsync(id, cancellationToken))?.Volume != volume.Name)
                    {
                        orphans.Add(file);
                    }
                }
            }
        }

        if (unhealthy.Count > 0 || orphans.Count > 0)
        {
            StorageLog.ScrubFoundUnhealthy(_logger, checkedCount, unhealthy.Count, orphans.Count);
        }

        return new ShardScrubReport(checkedCount, bytes, unhealthy, orphans);
    }

    /// <inheritdoc/>
    public Task<ShardStoreStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_spaceLock)
        {
            return Task.FromResult(new ShardStoreStats(_volumes.Select(v => new ShardVolumeStats(v.Name, v.Path, v.Count, v.Used, FreeBytes(v), v.DirectIo)).ToArray()));
        }
    }

    /// <summary>Closes the index.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _indexLock.Wait();
        try
        {
            _disposed = true;
            _index.Dispose();
        }
        finally
        {
            _indexLock.Release();
        }
    }

    [SkipLocalsInit]
    private async Task<(ShardScrubResult Result, long Read)> ScrubFileAsync(ShardInfo info, CancellationToken cancellationToken)
    {
        if (!_volumesByName.TryGetValue(info.Volume, out var volume) || !File.Exists(volume.ShardPath(info.Id)))
        {
            return (new ShardScrubResult(info.Id, ShardHealthStatus.Missing, info.Sha256, null), 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long read = 0;
            await using (var file = new FileStream(volume.ShardPath(info.Id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                int n;
                while ((n = await file.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    read += n;
                }
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            var healthy = read == info.Length && string.Equals(actual, info.Sha256, StringComparison.OrdinalIgnoreCase);
            return (new ShardScrubResult(info.Id, healthy ? ShardHealthStatus.Healthy : ShardHealthStatus.Corrupt, info.Sha256, actual), read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (new ShardScrubResult(info.Id, ShardHealthStatus.Missing, info.Sha256, null), 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Volume ReserveVolume(long bytes)
    {
        lock (_spaceLock)
        {
            Volume? best = null;
            foreach (var v in _volumes)
            {
                // Fewest writes in flight first: concurrent puts to one node are normally shards of one stripe, which
                // belong on distinct volumes (and spreading them spreads the disk load); then least used.
                if (FreeBytes(v) >= bytes && (best is null || v.Writing < best.Writing || (v.Writing == best.Writing && v.Used + v.Pending < best.Used + best.Pending)))
                {
                    best = v;
                }
            }

            if (best is null)
            {
                throw new ShardStoreFullException(bytes);
            }

            best.Pending += bytes;
            best.Writing++;
            return best;
        }
    }

    private static long FreeBytes(Volume v)
    {
        long fileSystemFree;
        try
        {
            fileSystemFree = new DriveInfo(v.Path).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            fileSystemFree = 0;
        }

        var free = fileSystemFree - v.Pending;
        if (v.Capacity > 0)
        {
            free = Math.Min(free, v.Capacity - v.Used - v.Pending);
        }

        return Math.Max(0, free);
    }

    private ShardInfo? ReadInfo(ShardId id, SqliteTransaction? transaction = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var cmd = _index.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = "SELECT id, volume, size, sha256, created_ms FROM shards WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id.Value);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadRow(reader) : null;
    }

    private static ShardInfo ReadRow(SqliteDataReader reader) => new(
        ShardId.Parse(reader.GetString(0)),
        reader.GetString(1),
        reader.GetInt64(2),
        reader.GetString(3),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));

    private void Execute(string sql)
    {
        using var cmd = _index.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The temp directory is emptied on the next open.
        }
    }

    /// <summary>A shard written and fsynced in the temp directory, waiting to be renamed into place and indexed.</summary>
    private sealed record PendingShard(ShardInfo Info, Volume Volume, string TempPath, string FinalPath)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Volume
    {
        public Volume(StorageVolumeOptions options)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
            ArgumentException.ThrowIfNullOrWhiteSpace(options.Path);
            Name = options.Name;
            Path = System.IO.Path.GetFullPath(options.Path);
            Capacity = options.CapacityBytes;
            DirectIo = options.DirectIo && DirectFile.PlatformSupported;
            ShardsDirectory = System.IO.Path.Combine(Path, "shards");
            TempDirectory = System.IO.Path.Combine(Path, "tmp");
        }

        public string Name { get; }
        public string Path { get; }
        public long Capacity { get; }
        public bool DirectIo { get; set; }
        public string ShardsDirectory { get; }
        public string TempDirectory { get; }
        public long Used { get; set; }
        public long Count { get; set; }
        public long Pending { get; set; }
        public int Writing { get; set; }

        public string ShardPath(ShardId id)
        {
            var value = id.Value;
            return System.IO.Path.Combine(ShardsDirectory, value.Length >= 2 ? value[..2] : "_", value);
        }
    }
}
