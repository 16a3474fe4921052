using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Gateway.Api;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the gateway: the REST API, health checks and problem-details errors.</summary>
public static class GatewayExtensions
{
    /// <summary>Adds the gateway's services.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        return services;
    }

    /// <summary>Maps the gateway's endpoints: <c>/healthz</c> and the <c>/api</c> routes.</summary>
    public static IEndpointRouteBuilder MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/healthz", () => Results.Text("ok")).WithName("Health");
        app.MapClusterEndpoints();
        app.MapObjectEndpoints();
        app.MapComputeEndpoints();
        app.MapNodeEndpoints();
        return app;
    }
}
