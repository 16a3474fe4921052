using BenchmarkDotNet.Attributes;
using NSec.Cryptography;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Benchmarks.Identity;

/// <summary>
/// Ed25519 through our wrapper (<see cref="PublicIdentity.Verify"/>, <see cref="Ed25519KeyPair.Sign(ReadOnlySpan{byte}, Span{byte})"/>)
/// against the same calls on bare NSec, over a 256-byte message (about the size of a signed request's canonical bytes).
/// The wrapper's overhead is the ratio of each pair.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks : IDisposable
{
    private readonly byte[] _message = new byte[256];
    private readonly byte[] _signature = new byte[Ed25519KeyPair.SignatureLength];
    private Ed25519KeyPair _pair = null!;
    private PublicIdentity _identity = null!;
    private Key _nsecKey = null!;
    private PublicKey _nsecPublic = null!;

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_message);
        var seed = new byte[Ed25519KeyPair.KeyLength];
        new Random(8).NextBytes(seed);
        _pair = Ed25519KeyPair.FromSeed(seed);
        _identity = PublicIdentity.ParseDid(_pair.PublicKey.Did);
        _nsecKey = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        _nsecPublic = _nsecKey.PublicKey;
        _pair.Sign(_message, _signature);
    }

    [Benchmark(Baseline = true)]
    public bool VerifyBareNSec() => SignatureAlgorithm.Ed25519.Verify(_nsecPublic, _message, _signature);

    [Benchmark]
    public bool VerifyPublicIdentity() => _identity.Verify(_message, _signature);

    [Benchmark]
    public void SignBareNSec() => SignatureAlgorithm.Ed25519.Sign(_nsecKey, _message, _signature);

    [Benchmark]
    public void SignKeyPair() => _pair.Sign(_message, _signature);

    public void Dispose()
    {
        _pair?.Dispose();
        _nsecKey?.Dispose();
        GC.SuppressFinalize(this);
    }
}
