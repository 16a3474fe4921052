using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Grains;

namespace Xmbl.Cluster.Gateway.Application;

/// <summary>
/// The page sizes of every listing, REST and gRPC alike: <see cref="GatewayOptions.DefaultPageSize"/> when none is
/// asked for, else 1 to <see cref="GatewayOptions.MaxPageSize"/>.
/// </summary>
internal sealed class Paging(IOptions<GatewayOptions> options)
{
    /// <summary>The size of a page.</summary>
    /// <param name="requested">The size asked for; null for the default.</param>
    /// <param name="field">The request field that asked (REST <c>limit</c>, gRPC <c>page_size</c>), for the refusal.</param>
    /// <returns>The size.</returns>
    /// <exception cref="RequestRefusedException">Out of range.</exception>
    public int Size(int? requested, string field) => Size(requested, field, options.Value.DefaultPageSize, options.Value.MaxPageSize);

    /// <summary>As <see cref="Size(int?, string)"/>, with a listing's own bounds.</summary>
    public static int Size(int? requested, string field, int @default, int max) =>
        requested switch
        {
            null => @default,
            >= 1 and var size when size <= max => size,
            _ => throw RequestRefusedException.Invalid(field, $"{field} must be a whole number from 1 to {max}."),
        };
}
