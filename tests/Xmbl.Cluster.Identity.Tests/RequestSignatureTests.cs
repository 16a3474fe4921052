using System.Net;
using System.Numerics;
using System.Text;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Identity.Tests;

[Trait("Suite", "BVT")]
public sealed class RequestSignatureTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_000);
    private readonly FixedTime _time = new(Now);
    private readonly Ed25519KeyPair _key = Ed25519KeyPair.Generate();

    [Fact]
    public void CanonicalBytes_AreTheSevenFieldsJoinedByNewlines()
    {
        var bytes = RequestSignature.CanonicalBytes("PUT", "/api/objects/docs/a.txt?x=1", RequestSignature.EmptyBodySha256, "did:key:z6Mk", "1765000000000", "AAAAAAAAAAAAAAAAAAAAAA");

        Assert.Equal(
            "xmbl-request-v1\nPUT\n/api/objects/docs/a.txt?x=1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\ndid:key:z6Mk\n1765000000000\nAAAAAAAAAAAAAAAAAAAAAA",
            Encoding.ASCII.GetString(bytes));
        Assert.Throws<ArgumentException>(() => RequestSignature.CanonicalBytes("PUT", "/a\nb", RequestSignature.EmptyBodySha256, "d", "1", "n"));
    }

    [Fact]
    public void DocumentedExample_ComputedWithAnotherEd25519Library_SignsAndVerifiesTheSame()
    {
        // docs/api.md, "Signed requests": the RFC 8032 test-1 key signing a job submission (Python's cryptography made it).
        using var key = Ed25519KeyPair.FromSeed(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        var body = "{\"module\":\"3f0a8c1e\",\"args\":[\"hello\"]}"u8;
        const string Signature = "5e99bd574f8f5db63c8684006a68744c45e9070dadc37ea037c37788c35b828f9d3f7bb7b5e69553bafd407442f6b105ef1f63d5bad886784198aeea9025dd0d";
        var headers = new SignedRequestHeaders("did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw", "1765101600000", "q83vEjRWeJq83vEjRWeJqw", "c285e361e2f46976cbba7154b9a3e16e0e314dbb839a15bcb57e66b0189ffe98", Signature);
        var canonical = RequestSignature.CanonicalBytes("POST", "/api/jobs", headers.ContentSha256!, headers.Identity!, headers.Timestamp!, headers.Nonce!);

        Assert.Equal(headers.Identity, key.PublicKey.Did);
        Assert.Equal(headers.ContentSha256, RequestSigner.HashBody(body));
        Assert.Equal(Signature, Convert.ToHexStringLower(key.Sign(canonical)));
        var verifier = new RequestVerifier(TimeSpan.FromMinutes(5), 10, new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(1_765_101_600_000)));
        Assert.True(verifier.Verify("POST", "/api/jobs", headers).IsValid);
    }

    [Fact]
    public void Verify_ASignedRequest_AcceptsIt_AndNamesTheSigner()
    {
        var headers = Signer().Sign("POST", "/api/jobs", RequestSigner.HashBody("{}"u8));

        var check = Verifier().Verify("POST", "/api/jobs", headers);

        Assert.True(check.IsValid, check.Reason);
        Assert.Equal(_key.PublicKey, check.Signer);
    }

    [Fact]
    public void Verify_TheSameRequestTwice_RefusesTheReplay()
    {
        var verifier = Verifier();
        var headers = Signer().Sign("DELETE", "/api/objects/docs/a", RequestSignature.EmptyBodySha256);

        Assert.True(verifier.Verify("DELETE", "/api/objects/docs/a", headers).IsValid);
        var replay = verifier.Verify("DELETE", "/api/objects/docs/a", headers);

        Assert.Equal(SignatureFailure.Replayed, replay.Failure);
        Assert.Contains(RequestSignature.NonceHeader, replay.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ANonceReusedOnAnotherCorrectlySignedRequest_IsRefused()
    {
        var verifier = Verifier();
        var first = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        Assert.True(verifier.Verify("POST", "/api/jobs", first).IsValid);

        var second = Resign("POST", "/api/jobs/j1/cancel", RequestSignature.EmptyBodySha256, first.Timestamp!, first.Nonce!);

        Assert.Equal(SignatureFailure.Replayed, verifier.Verify("POST", "/api/jobs/j1/cancel", second).Failure);
    }

    [Fact]
    public void Verify_TheSameNonceFromAnotherSigner_IsAccepted()
    {
        var verifier = Verifier();
        using var other = Ed25519KeyPair.Generate();
        var mine = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        var theirs = Resign("POST", "/api/jobs", RequestSignature.EmptyBodySha256, mine.Timestamp!, mine.Nonce!, other);

        Assert.True(verifier.Verify("POST", "/api/jobs", mine).IsValid);
        Assert.True(verifier.Verify("POST", "/api/jobs", theirs).IsValid);
    }

    [Theory]
    [InlineData(-300_001, SignatureFailure.Stale)]
    [InlineData(-300_000, SignatureFailure.None)]
    [InlineData(300_000, SignatureFailure.None)]
    [InlineData(300_001, SignatureFailure.Future)]
    public void Verify_TimestampAgainstTheDefaultFiveMinuteWindow(long offsetMs, SignatureFailure expected)
    {
        var signedAt = new FixedTime(Now.AddMilliseconds(offsetMs));
        var headers = new RequestSigner(_key, signedAt).Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);

        Assert.Equal(expected, Verifier().Verify("POST", "/api/jobs", headers).Failure);
    }

    [Fact]
    public void Verify_TheWindowIsConfigurable()
    {
        var headers = new RequestSigner(_key, new FixedTime(Now.AddSeconds(-20))).Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);

        Assert.Equal(SignatureFailure.Stale, new RequestVerifier(TimeSpan.FromSeconds(10), 100, _time).Verify("POST", "/api/jobs", headers).Failure);
        Assert.True(new RequestVerifier(TimeSpan.FromSeconds(30), 100, _time).Verify("POST", "/api/jobs", headers).IsValid);
    }

    [Fact]
    public void Verify_ASignatureByAnotherKey_IsRefusedAsForged()
    {
        using var mallory = Ed25519KeyPair.Generate();
        var honest = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        var forged = honest with { Signature = Resign("POST", "/api/jobs", RequestSignature.EmptyBodySha256, honest.Timestamp!, honest.Nonce!, mallory).Signature };

        Assert.Equal(SignatureFailure.Forged, Verifier().Verify("POST", "/api/jobs", forged).Failure);
    }

    [Fact]
    public void Verify_AnyBitOfTheSignatureFlipped_IsRefused()
    {
        var verifier = Verifier();
        var headers = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        var signature = Convert.FromHexString(headers.Signature!);
        for (var bit = 0; bit < signature.Length * 8; bit++)
        {
            signature[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(verifier.Verify("POST", "/api/jobs", headers with { Signature = Convert.ToHexStringLower(signature) }).IsValid, $"bit {bit}");
            signature[bit / 8] ^= (byte)(1 << (bit % 8));
        }

        Assert.True(verifier.Verify("POST", "/api/jobs", headers).IsValid);
    }

    [Theory]
    [InlineData(126)]
    [InlineData(64)]
    [InlineData(0)]
    public void Verify_ATruncatedSignature_IsRefusedAsMalformed(int hexDigits)
    {
        var headers = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);

        var check = Verifier().Verify("POST", "/api/jobs", headers with { Signature = headers.Signature![..hexDigits] });

        Assert.Equal(SignatureFailure.Malformed, check.Failure);
    }

    [Fact]
    public void Verify_ANonCanonicalSignature_SPlusTheGroupOrder_IsRefused()
    {
        var verifier = Verifier();
        var headers = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        var signature = Convert.FromHexString(headers.Signature!);

        // S is the second half, little-endian; S + L verifies under the plain equation but is not canonical.
        var order = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", System.Globalization.CultureInfo.InvariantCulture);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: false) + order;
        var malleated = signature.ToArray();
        s.TryWriteBytes(malleated.AsSpan(32), out _, isUnsigned: true, isBigEndian: false);

        Assert.False(verifier.Verify("POST", "/api/jobs", headers with { Signature = Convert.ToHexStringLower(malleated) }).IsValid);
        Assert.True(verifier.Verify("POST", "/api/jobs", headers).IsValid);
    }

    [Theory]
    // y = p + 1 (non-canonical encoding of y = 1, the identity point) and an all-zero key (small order).
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    public void Verify_ANonCanonicalOrSmallOrderKey_IsRefusedAsMalformed(string keyHex)
    {
        var did = "did:key:z" + Base58.Encode([0xED, 0x01, .. Convert.FromHexString(keyHex)]);
        var headers = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256) with { Identity = did };

        var check = Verifier().Verify("POST", "/api/jobs", headers);

        Assert.Equal(SignatureFailure.Malformed, check.Failure);
        Assert.Contains(RequestSignature.IdentityHeader, check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ABodyHashOtherThanTheSignedOne_IsRefusedAsForged()
    {
        var headers = Signer().Sign("POST", "/api/jobs", RequestSigner.HashBody("{\"module\":\"a\"}"u8));

        var check = Verifier().Verify("POST", "/api/jobs", headers with { ContentSha256 = RequestSigner.HashBody("{\"module\":\"b\"}"u8) });

        Assert.Equal(SignatureFailure.Forged, check.Failure);
    }

    [Theory]
    [InlineData("DELETE", "/api/jobs")]
    [InlineData("POST", "/api/jobs?x=1")]
    [InlineData("POST", "/api/Jobs")]
    [InlineData("post", "/api/jobs")]
    public void Verify_AnotherMethodOrTarget_IsRefusedAsForged(string method, string target)
    {
        var headers = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);

        Assert.Equal(SignatureFailure.Forged, Verifier().Verify(method, target, headers).Failure);
    }

    [Fact]
    public void Verify_MissingOrMalformedHeaders_NameTheHeader()
    {
        var good = Signer().Sign("POST", "/api/jobs", RequestSignature.EmptyBodySha256);
        var cases = new (SignedRequestHeaders Headers, SignatureFailure Failure, string Header)[]
        {
            (default, SignatureFailure.Missing, RequestSignature.SignatureHeader),
            (good with { Signature = null }, SignatureFailure.Missing, RequestSignature.SignatureHeader),
            (good with { Identity = null }, SignatureFailure.Missing, RequestSignature.IdentityHeader),
            (good with { Timestamp = null }, SignatureFailure.Missing, RequestSignature.TimestampHeader),
            (good with { Nonce = null }, SignatureFailure.Missing, RequestSignature.NonceHeader),
            (good with { ContentSha256 = null }, SignatureFailure.Missing, RequestSignature.ContentSha256Header),
            (good with { Identity = "did:key:alice" }, SignatureFailure.Malformed, RequestSignature.IdentityHeader),
            (good with { Identity = good.Identity + new string('1', 20_000) }, SignatureFailure.Malformed, RequestSignature.IdentityHeader),
            (good with { Timestamp = "-5" }, SignatureFailure.Malformed, RequestSignature.TimestampHeader),
            (good with { Timestamp = "1e12" }, SignatureFailure.Malformed, RequestSignature.TimestampHeader),
            (good with { Nonce = "short" }, SignatureFailure.Malformed, RequestSignature.NonceHeader),
            (good with { Nonce = new string('a', 16) + " " }, SignatureFailure.Malformed, RequestSignature.NonceHeader),
            (good with { ContentSha256 = good.ContentSha256!.ToUpperInvariant() }, SignatureFailure.Malformed, RequestSignature.ContentSha256Header),
            (good with { Signature = new string('z', 128) }, SignatureFailure.Malformed, RequestSignature.SignatureHeader),
        };

        foreach (var (headers, failure, header) in cases)
        {
            var check = Verifier().Verify("POST", "/api/jobs", headers);
            Assert.Equal(failure, check.Failure);
            Assert.Contains(header, check.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SigningHandler_SignsWhatHttpClientSends_SoTheVerifierAcceptsIt()
    {
        var verifier = Verifier();
        var checks = new List<SignatureCheck>();
        using var inner = new Capture(async request =>
        {
            var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync();
            var headers = new SignedRequestHeaders(Header(request, RequestSignature.IdentityHeader), Header(request, RequestSignature.TimestampHeader), Header(request, RequestSignature.NonceHeader), Header(request, RequestSignature.ContentSha256Header), Header(request, RequestSignature.SignatureHeader));
            Assert.Equal(RequestSigner.HashBody(body), headers.ContentSha256);
            checks.Add(verifier.Verify(request.Method.Method, request.RequestUri!.PathAndQuery, headers));
        });
        using var handler = new SigningHandler(Signer()) { InnerHandler = inner };
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:5080") };

        using var _1 = await http.PostAsync(new Uri("/api/jobs?reason=a%20b", UriKind.Relative), new StringContent("{\"module\":\"x\"}"));
        using var _2 = await http.DeleteAsync(new Uri("/api/objects/docs/%C3%A9t%C3%A9.txt", UriKind.Relative));
        using var _3 = await http.PostAsync(new Uri("/api/nodes/n1/stop", UriKind.Relative), null);

        Assert.Equal(3, checks.Count);
        Assert.All(checks, c => Assert.True(c.IsValid, c.Reason));
    }

    public void Dispose() => _key.Dispose();

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private RequestSigner Signer() => new(_key, _time);

    private RequestVerifier Verifier() => new(TimeSpan.FromMinutes(5), 1000, _time);

    private SignedRequestHeaders Resign(string method, string target, string hash, string timestamp, string nonce, Ed25519KeyPair? key = null)
    {
        key ??= _key;
        var canonical = RequestSignature.CanonicalBytes(method, target, hash, key.PublicKey.Did, timestamp, nonce);
        return new SignedRequestHeaders(key.PublicKey.Did, timestamp, nonce, hash, Convert.ToHexStringLower(key.Sign(canonical)));
    }

    private sealed class Capture(Func<HttpRequestMessage, Task> inspect) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await inspect(request);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}
