using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Per-client rate limits (<see cref="RateLimitOptions"/>) on ASP.NET Core's rate limiter. The limiter runs after
/// <see cref="RequestSigning"/>, so a signed request counts against the did:key that signed it (whatever address it comes
/// from) and cannot be charged to another account by naming it; an unsigned one counts against its remote address.
/// </summary>
internal static class ClientRateLimiting
{
    /// <summary>Configures the limiter from <see cref="GatewayOptions.RateLimit"/>.</summary>
    public static void Configure(RateLimiterOptions limiter, RateLimitOptions options)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = OnRejectedAsync;
        if (!options.Enabled)
        {
            return;
        }

        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst,
            TokensPerPeriod = options.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            // A refused request is answered at once: queueing would only hold connections open for a client already too fast.
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        // Made once: a lambda created inside the partitioner would be a new delegate per request.
        Func<ClientKey, TokenBucketRateLimiterOptions> perClient = _ => bucket;
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, ClientKey>(context =>
            RateLimitPartition.GetTokenBucketLimiter(ClientKey.Of(context), perClient));
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        // The bucket refills every second; a client told to come back after the refill gets its next request through.
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimit;
        await Problems.TooManyRequests(
                $"Too many requests from {ClientKey.Of(context)}: at most {options.PermitsPerSecond} a second (bursts of {options.Burst}); retry after {retryAfter} s (Xmbl:Gateway:RateLimit).")
            .ExecuteAsync(context);
    }
}

/// <summary>
/// Whom a request is counted against: a signer's did:key, else the remote address (IPv4 whole, IPv6 by its /64 prefix).
/// A struct of a reference and two numbers, so that keying the limiter allocates nothing per request.
/// </summary>
internal readonly record struct ClientKey(string? Account, ulong High, ulong Low)
{
    public static ClientKey Of(HttpContext context)
    {
        if (context.Features.Get<Caller>() is { SignedContentSha256: not null } signed)
        {
            return new ClientKey(signed.Account, 0, 0);
        }

        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return default;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _))
        {
            return new ClientKey(null, 0, BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        // One /64 is what a single IPv6 host or network is given: counting per address would let it rotate through 2^64.
        return address.TryWriteBytes(bytes, out _) ? new ClientKey(null, BinaryPrimitives.ReadUInt64BigEndian(bytes), ulong.MaxValue) : default;
    }

    public override string ToString()
    {
        if (Account is not null)
        {
            return Account;
        }

        if (Low == ulong.MaxValue)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
            return new IPAddress(bytes).ToString() + "/64";
        }

        Span<byte> v4 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)Low);
        return new IPAddress(v4).ToString();
    }
}
