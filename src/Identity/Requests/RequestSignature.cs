using System.Buffers;
using System.Globalization;
using System.Text;

namespace Xmbl.Cluster.Identity.Requests;

/// <summary>
/// The signed-request scheme of the gateway API (docs/api.md, "Signed requests"): header names, field syntax and the
/// canonical bytes an Ed25519 signature covers.
/// </summary>
/// <remarks>
/// The canonical bytes are seven lines joined by <c>\n</c> (no trailing newline), all ASCII:
/// <c>xmbl-request-v1</c>, the method, the request target exactly as sent (path and query), the body's SHA-256 in
/// lower-case hex, the signer's did:key, the timestamp (Unix milliseconds) and the nonce. No field can hold a newline,
/// so the layout is unambiguous; the version line keeps these signatures from being valid for any other message.
/// </remarks>
public static class RequestSignature
{
    /// <summary>Header: the signer's <c>did:key</c>.</summary>
    public const string IdentityHeader = "X-Xmbl-Identity";

    /// <summary>Header: when the request was signed, in Unix milliseconds.</summary>
    public const string TimestampHeader = "X-Xmbl-Timestamp";

    /// <summary>Header: a value the signer never uses twice (16-128 characters of <c>A-Z a-z 0-9 _ -</c>).</summary>
    public const string NonceHeader = "X-Xmbl-Nonce";

    /// <summary>Header: the SHA-256 of the body, 64 lower-case hex digits (the hash of no bytes for an empty body).</summary>
    public const string ContentSha256Header = "X-Xmbl-Content-Sha256";

    /// <summary>Header: the Ed25519 signature of the canonical bytes, 128 hex digits.</summary>
    public const string SignatureHeader = "X-Xmbl-Signature";

    /// <summary>The first line of the canonical bytes.</summary>
    public const string Version = "xmbl-request-v1";

    /// <summary>The SHA-256 of an empty body.</summary>
    public const string EmptyBodySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>The shortest nonce.</summary>
    public const int MinNonceLength = 16;

    /// <summary>The longest nonce.</summary>
    public const int MaxNonceLength = 128;

    /// <summary>The longest method and request target the canonical bytes take (longer requests are refused).</summary>
    public const int MaxTargetLength = 8192;

    private static readonly SearchValues<char> NonceChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");
    private static readonly SearchValues<char> TargetChars = SearchValues.Create(Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c).ToArray());
    private static readonly SearchValues<char> MethodChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~");

    /// <summary>Whether a nonce has the allowed length and characters.</summary>
    public static bool IsValidNonce(string? nonce) =>
        nonce is { Length: >= MinNonceLength and <= MaxNonceLength } && !nonce.AsSpan().ContainsAnyExcept(NonceChars);

    /// <summary>Whether a body hash is 64 lower-case hex digits.</summary>
    public static bool IsValidContentSha256(string? hash) =>
        hash is { Length: 64 } && !hash.AsSpan().ContainsAnyExcept(LowerHex);

    /// <summary>Reads a timestamp: 1-15 decimal digits, Unix milliseconds.</summary>
    public static bool TryParseTimestamp(string? text, out long unixMilliseconds)
    {
        unixMilliseconds = 0;
        return text is { Length: >= 1 and <= 15 } && !text.AsSpan().ContainsAnyExcept(Digits)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out unixMilliseconds);
    }

    /// <summary>Whether a method and request target can be signed: an HTTP token, and an origin-form target of visible ASCII.</summary>
    public static bool IsSignableTarget(string method, string target) =>
        method is { Length: > 0 } && !method.AsSpan().ContainsAnyExcept(MethodChars)
        && target is { Length: > 0 } && target[0] == '/' && method.Length + target.Length <= MaxTargetLength
        && !target.AsSpan().ContainsAnyExcept(TargetChars);

    /// <summary>The canonical bytes of a request, as signed and verified.</summary>
    /// <param name="method">The HTTP method, as sent (<c>PUT</c>).</param>
    /// <param name="target">The request target as sent: path and query (<c>/api/objects/docs/a.txt</c>).</param>
    /// <param name="contentSha256">The body's SHA-256, lower-case hex.</param>
    /// <param name="did">The signer's did:key.</param>
    /// <param name="timestamp">The timestamp header's text.</param>
    /// <param name="nonce">The nonce.</param>
    public static byte[] CanonicalBytes(string method, string target, string contentSha256, string did, string timestamp, string nonce)
    {
        var bytes = new byte[CanonicalLength(method, target, contentSha256, did, timestamp, nonce)];
        WriteCanonical(bytes, method, target, contentSha256, did, timestamp, nonce);
        return bytes;
    }

    /// <summary>The length of the canonical bytes (every field is ASCII: one byte per character).</summary>
    public static int CanonicalLength(string method, string target, string contentSha256, string did, string timestamp, string nonce) =>
        Version.Length + method.Length + target.Length + contentSha256.Length + did.Length + timestamp.Length + nonce.Length + 6;

    /// <summary>Writes the canonical bytes into <paramref name="destination"/> (<see cref="CanonicalLength"/> bytes).</summary>
    /// <exception cref="ArgumentException">A field holds a character outside ASCII or a newline.</exception>
    public static void WriteCanonical(Span<byte> destination, string method, string target, string contentSha256, string did, string timestamp, string nonce)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(contentSha256);
        ArgumentNullException.ThrowIfNull(did);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(nonce);
        var at = 0;
        Field(destination, ref at, Version);
        Field(destination, ref at, method);
        Field(destination, ref at, target);
        Field(destination, ref at, contentSha256);
        Field(destination, ref at, did);
        Field(destination, ref at, timestamp);
        Field(destination, ref at, nonce, last: true);
        if (at != destination.Length)
        {
            throw new ArgumentException($"The destination has {destination.Length} bytes; the canonical bytes have {at}.", nameof(destination));
        }
    }

    private static void Field(Span<byte> destination, ref int at, string value, bool last = false)
    {
        if (!Ascii.IsValid(value) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("A signed field must be ASCII without newlines.", nameof(value));
        }

        at += Encoding.ASCII.GetBytes(value, destination[at..]);
        if (!last)
        {
            destination[at++] = (byte)'\n';
        }
    }
}
