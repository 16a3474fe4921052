using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster.Grains.Tests.Gateway;

/// <summary><c>/openapi/v1.json</c> is generated from the endpoints and leaves none of the API out.</summary>
[Trait("Suite", "Functional")]
public sealed class OpenApiCoverageTests
{
    /// <summary>
    /// Deliberately not in the document: the Orleans Dashboard (Orleans' own UI and the JSON it polls), the members-only
    /// shard endpoints (cluster secret, between silos), gRPC services (their contract is the .proto, served by
    /// reflection) and the document itself.
    /// </summary>
    private static bool DeliberatelyLeftOut(RouteEndpoint endpoint) =>
        endpoint.RoutePattern.RawText!.StartsWith("/dashboard", StringComparison.Ordinal)
        || endpoint.RoutePattern.RawText.StartsWith("/openapi/", StringComparison.Ordinal)
        || endpoint.Metadata.Any(m => m.GetType().FullName?.StartsWith("Grpc.", StringComparison.Ordinal) == true);

    [Fact]
    public async Task EveryMappedRoute_IsInTheOpenApiDocument_WithItsMethods()
    {
        // With the service library, as the silo has it, so the services and tasks routes are checked too.
        await using var gateway = await GatewayApp.StartAsync(services: s => s.AddServiceLibrary(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()));
        using var response = await gateway.Http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");

        var routes = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !DeliberatelyLeftOut(e))
            .ToList();
        Assert.Contains(routes, e => e.RoutePattern.RawText == "/api/jobs/{id}");
        var missing = new List<string>();
        foreach (var route in routes)
        {
            // OpenAPI writes a catch-all {**name} as {name}.
            var path = route.RoutePattern.RawText!.Replace("{**", "{", StringComparison.Ordinal);
            var methods = route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
            if (!paths.TryGetProperty(path, out var item))
            {
                missing.Add($"{string.Join(",", methods)} {path}");
                continue;
            }

            missing.AddRange(methods.Where(m => !item.TryGetProperty(m.ToLowerInvariant(), out _)).Select(m => $"{m} {path}"));
        }

        Assert.True(missing.Count == 0, "not in /openapi/v1.json: " + string.Join("; ", missing));
        Assert.True(paths.TryGetProperty("/api/accounts/{id}/history", out _));
        Assert.True(paths.TryGetProperty("/api/tasks/{id}/ack", out _));
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/dashboard", StringComparison.Ordinal));
    }
}
