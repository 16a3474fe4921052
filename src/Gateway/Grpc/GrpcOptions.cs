using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary>The gRPC endpoint's limits and gRPC-Web origins: section <c>Xmbl:Gateway:Grpc</c> (docs/api.md, "gRPC").</summary>
public sealed class GrpcOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Gateway:Grpc";

    /// <summary>The key of the gRPC endpoint's address (<c>--grpc-urls</c>); <c>none</c> turns the h2c/TLS port off.</summary>
    public const string UrlKey = "Xmbl:Gateway:GrpcUrl";

    /// <summary>The default largest message, either way: 4 MiB (gRPC's own default).</summary>
    public const int DefaultMaxMessageBytes = 4 << 20;

    /// <summary>The default size of a GetObject chunk: 256 KiB.</summary>
    public const int DefaultChunkBytes = 256 << 10;

    /// <summary>The default HTTP/2 receive window of one call: 4 MiB, a whole default message (Kestrel's own is 768 KiB).</summary>
    public const int DefaultStreamWindowBytes = 4 << 20;

    /// <summary>The default HTTP/2 receive window of one connection, all its calls together: 16 MiB (Kestrel's own is 1 MiB).</summary>
    public const int DefaultConnectionWindowBytes = 16 << 20;

    /// <summary>The default number of concurrent calls (HTTP/2 streams) per connection.</summary>
    public const int DefaultMaxConcurrentStreams = 100;

    /// <summary>The largest message received or sent (a PutObject chunk, a SubmitJob with an inline module, …).</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    /// <summary>How many bytes of an object each GetObject message carries (at most <see cref="MaxMessageBytes"/>).</summary>
    public int ChunkBytes { get; set; } = DefaultChunkBytes;

    /// <summary>
    /// How many bytes a client may send on one call before the server grants more (HTTP/2 flow control). Kestrel's 768 KiB
    /// default makes a client stop mid-message for every 1 MiB chunk of an upload and wait a round trip.
    /// </summary>
    public int StreamWindowBytes { get; set; } = DefaultStreamWindowBytes;

    /// <summary>How many bytes a client may send on one connection, all calls together, before the server grants more: what the server buffers at most per connection.</summary>
    public int ConnectionWindowBytes { get; set; } = DefaultConnectionWindowBytes;

    /// <summary>The most calls in flight on one HTTP/2 connection; more wait for a free stream.</summary>
    public int MaxConcurrentStreams { get; set; } = DefaultMaxConcurrentStreams;

    /// <summary>Origins whose pages may make gRPC-Web calls (CORS), e.g. <c>https://app.example</c>; <c>*</c> allows any. Empty: same origin only.</summary>
    public IList<string> WebOrigins { get; } = [];
}

/// <summary>Checks <see cref="GrpcOptions"/> at start; a bad value stops the process naming the key.</summary>
internal sealed class GrpcOptionsValidator : IValidateOptions<GrpcOptions>
{
    public ValidateOptionsResult Validate(string? name, GrpcOptions options)
    {
        var failures = new List<string>();
        if (options.MaxMessageBytes is < 64 << 10 or > 256 << 20)
        {
            failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.MaxMessageBytes)} must be from 65536 to 268435456 (got {options.MaxMessageBytes}).");
        }

        if (options.ChunkBytes < 1024 || options.ChunkBytes > options.MaxMessageBytes - 64)
        {
            failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.ChunkBytes)} must be from 1024 to {nameof(GrpcOptions.MaxMessageBytes)} - 64 (got {options.ChunkBytes}).");
        }

        if (options.StreamWindowBytes is < 65_535 or > 256 << 20)
        {
            failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.StreamWindowBytes)} must be from 65535 to 268435456 (got {options.StreamWindowBytes}).");
        }

        if (options.ConnectionWindowBytes < options.StreamWindowBytes || options.ConnectionWindowBytes > 1 << 30)
        {
            failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.ConnectionWindowBytes)} must be from {nameof(GrpcOptions.StreamWindowBytes)} to 1073741824 (got {options.ConnectionWindowBytes}).");
        }

        if (options.MaxConcurrentStreams is < 1 or > 10_000)
        {
            failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.MaxConcurrentStreams)} must be from 1 to 10000 (got {options.MaxConcurrentStreams}).");
        }

        foreach (var origin in options.WebOrigins)
        {
            if (origin != "*" && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || origin.EndsWith('/')))
            {
                failures.Add($"{GrpcOptions.SectionName}:{nameof(GrpcOptions.WebOrigins)} holds '{origin}': write an origin as scheme://host[:port], or *.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Where the gateway serves gRPC (h2c, or TLS when the URL is https): shown in <c>/api/cluster</c> as <c>grpc</c>.</summary>
/// <param name="Url">The endpoint's URL, or null when the gRPC port is off (gRPC-Web still answers on the HTTP port).</param>
public sealed record GrpcEndpoint(string? Url)
{
    /// <summary>
    /// The configured URL, else the first <c>urls</c> address with its port plus one (5080 → 5081); null when
    /// <c>none</c> is configured, or the first address has no fixed port to derive from.
    /// </summary>
    public static GrpcEndpoint From(string? configured, string? urls)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (string.Equals(configured.Trim(), "none", StringComparison.OrdinalIgnoreCase))
            {
                return new GrpcEndpoint((string?)null);
            }

            if (!TryParse(configured.Trim(), out var given) || given.Port == 0)
            {
                throw new FormatException($"{GrpcOptions.UrlKey} ('{configured}') must be an http:// or https:// URL with a port, e.g. http://127.0.0.1:5081, or none.");
            }

            return new GrpcEndpoint(configured.Trim().TrimEnd('/'));
        }

        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null || !TryParse(first, out var main) || main.Port is 0 or 65535)
        {
            return new GrpcEndpoint((string?)null);
        }

        return new GrpcEndpoint($"{main.Scheme}://{main.Host}:{main.Port + 1}");
    }

    /// <summary>The port, or 0 when off.</summary>
    public int Port => Url is null ? 0 : Parse(Url).Port;

    // Kestrel's wildcards (http://*:5081, http://+:5081) are no valid URI hosts: read them as 0.0.0.0 for the port.
    private static bool TryParse(string url, out (string Scheme, string Host, int Port) parsed)
    {
        parsed = default;
        var scheme = url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? "https" : url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "http" : null;
        if (scheme is null)
        {
            return false;
        }

        var rest = url[(scheme.Length + 3)..].TrimEnd('/');
        var host = rest.StartsWith('*') || rest.StartsWith('+') ? rest[..1] : null;
        var probe = host is null ? url : scheme + "://0.0.0.0" + rest[1..];
        if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || uri.IsDefaultPort && !rest.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        parsed = (scheme, host ?? (uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.Host.Trim('[', ']') + "]" : uri.Host), uri.Port);
        return true;
    }

    private static (string Scheme, string Host, int Port) Parse(string url) => TryParse(url, out var parsed) ? parsed : throw new FormatException(url);
}
