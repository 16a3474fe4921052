using System.Reflection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Xmbl.Cluster.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// OpenTelemetry for silos and standalone gateways (both call <see cref="GatewayExtensions.AddGateway"/>, which adds it):
/// what is traced and measured (<see cref="AddClusterInstrumentation(TracerProviderBuilder)"/>), exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Without it no SDK runs, so no span or measurement is made at all.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The environment variable that switches the OTLP exporter on (the OpenTelemetry standard one).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The meters of Orleans' own metrics (grain calls, activations, messaging, membership).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>The meter of gRPC server calls (Grpc.AspNetCore), counted once a gRPC service is mapped.</summary>
    public const string GrpcServerMeter = "Grpc.AspNetCore.Server";

    /// <summary>
    /// The cluster's spans: ASP.NET Core requests (not <c>/healthz</c>, which probes call every few seconds), Orleans'
    /// application grain calls, and the cluster's own job spans (<see cref="ClusterTelemetry"/>).
    /// </summary>
    public static TracerProviderBuilder AddClusterInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddSource(ClusterTelemetry.Name)
            .AddSource(Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName)
            .AddAspNetCoreInstrumentation(o => o.Filter = static context => !context.Request.Path.StartsWithSegments("/healthz", StringComparison.Ordinal));
    }

    /// <summary>
    /// The cluster's metrics: jobs, fuel, latency, validation outcomes, storage and repairs (<see cref="ClusterTelemetry"/>,
    /// <see cref="SiloMetrics"/>), HTTP and gRPC requests, Orleans' own meters and the .NET runtime's.
    /// </summary>
    public static MeterProviderBuilder AddClusterInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddMeter(ClusterTelemetry.Name, OrleansMeter, GrpcServerMeter)
            .AddInstrumentation(static sp => ActivatorUtilities.CreateInstance<SiloMetrics>(sp))
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation();
    }

    /// <summary>Adds the OpenTelemetry SDK with the OTLP exporter when <see cref="OtlpEndpointVariable"/> is set; else nothing.</summary>
    internal static IServiceCollection AddClusterTelemetry(this IServiceCollection services)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OtlpEndpointVariable)))
        {
            return services;
        }

        // The exporter reads the rest of its settings (protocol, headers, OTEL_SERVICE_NAME, …) from the standard variables.
        services.AddOpenTelemetry()
            .ConfigureResource(r =>
            {
                if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
                {
                    r.AddService(Assembly.GetEntryAssembly()?.GetName().Name ?? "xmbl");
                }
            })
            .WithTracing(t => t.AddClusterInstrumentation().AddOtlpExporter())
            .WithMetrics(m => m.AddClusterInstrumentation().AddOtlpExporter());
        return services;
    }
}
