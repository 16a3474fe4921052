using System.Security.Cryptography;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>
/// A read-only stream over a shard that hashes what passes through and, on reaching the end, throws
/// <see cref="ShardCorruptException"/> when the length or SHA-256 differs from what was expected.
/// </summary>
internal sealed class HashVerifyingReadStream : ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ShardId _id;
    private readonly string _expectedSha256;
    private readonly long _expectedLength;
    private readonly IDisposable? _owner;
    private long _read;
    private bool _verified;

    public HashVerifyingReadStream(Stream inner, ShardId id, string expectedSha256, long expectedLength, IDisposable? owner = null)
    {
        _owner = owner;
        _inner = inner;
        _id = id;
        _expectedSha256 = expectedSha256;
        _expectedLength = expectedLength;
    }

    public override long Length => _expectedLength;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        return Account(buffer[..n], buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n], buffer.Length);
    }

    private int Account(ReadOnlySpan<byte> data, int requested)
    {
        if (data.Length > 0)
        {
            _read += data.Length;
            if (_read > _expectedLength)
            {
                throw new ShardCorruptException(_id, _expectedSha256, null, $"more than the expected {_expectedLength} bytes");
            }

            _hash.AppendData(data);
        }
        else if (requested > 0 && !_verified)
        {
            _verified = true;
            if (_read != _expectedLength)
            {
                throw new ShardCorruptException(_id, _expectedSha256, null, $"{_read} bytes instead of {_expectedLength}");
            }

            Span<byte> digest = stackalloc byte[32];
            _hash.GetHashAndReset(digest);
            var actual = Convert.ToHexStringLower(digest);
            if (!string.Equals(actual, _expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ShardCorruptException(_id, _expectedSha256, actual);
            }
        }

        return data.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _hash.Dispose();
            _owner?.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        _hash.Dispose();
        _owner?.Dispose();
        await base.DisposeAsync();
    }
}
