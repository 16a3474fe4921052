using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Grpc;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Nodes;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The gateway's gRPC face (docs/api.md, "gRPC"): the <c>xmbl.v1</c> services over HTTP/2 on a port of their own
/// (<see cref="GrpcOptions.UrlKey"/>: Kestrel cannot serve h2c and HTTP/1.1 on one cleartext port), gRPC-Web on the
/// HTTP port for browsers, server reflection and the gRPC health service (the same check as <c>/healthz</c>).
/// </summary>
public static partial class GatewayGrpcExtensions
{
    /// <summary>The CORS policy of gRPC-Web calls from other origins (<see cref="GrpcOptions.WebOrigins"/>).</summary>
    public const string WebCorsPolicy = "xmbl-grpc-web";

    /// <summary>Adds the gRPC services, their limits and the Kestrel settings of the gRPC port.</summary>
    public static IServiceCollection AddGatewayGrpc(this IServiceCollection services)
    {
        services.AddOptions<GrpcOptions>().BindConfiguration(GrpcOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GrpcOptions>, GrpcOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            return GrpcEndpoint.From(configuration[GrpcOptions.UrlKey], configuration["urls"]);
        });
        services.AddGrpc(o =>
        {
            // No catch-all routes for unknown services and methods: they would take every two-segment path of the
            // REST API and turn its 405s into 404s. An unknown method gets HTTP 404, which gRPC clients read as
            // UNIMPLEMENTED (the gRPC HTTP status mapping).
            o.IgnoreUnknownServices = true;
            o.Interceptors.Add<GrpcErrorInterceptor>();
            o.Interceptors.Add<SigningInterceptor>();
        });
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<GrpcOptions>>((o, limits) =>
        {
            o.MaxReceiveMessageSize = limits.Value.MaxMessageBytes;
            o.MaxSendMessageSize = limits.Value.MaxMessageBytes;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<SiloHealthCheck>("silo");
        services.AddOptions<KestrelServerOptions>().Configure<GrpcEndpoint, IOptions<GrpcOptions>>((kestrel, endpoint, limits) =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.Value.MaxConcurrentStreams;
            kestrel.Limits.Http2.InitialConnectionWindowSize = limits.Value.ConnectionWindowBytes;
            kestrel.Limits.Http2.InitialStreamWindowSize = limits.Value.StreamWindowBytes;
            var port = endpoint.Port;
            if (port != 0)
            {
                // Every other address keeps Kestrel's default (HTTP/1.1 on cleartext, ALPN with TLS).
                kestrel.ConfigureEndpointDefaults(listen =>
                {
                    if (listen.IPEndPoint?.Port == port)
                    {
                        listen.Protocols = HttpProtocols.Http2;
                    }
                });
            }
        });
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<GrpcOptions>>((cors, grpc) =>
            cors.AddPolicy(WebCorsPolicy, policy =>
            {
                var origins = grpc.Value.WebOrigins;
                _ = origins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins([.. origins]);
                policy.AllowAnyHeader().WithMethods("POST").WithExposedHeaders("grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding", GrpcErrors.FieldTrailer, GrpcErrors.ReasonTrailer);
            }));
        return services;
    }

    /// <summary>Listens on the gRPC address and maps the services, gRPC-Web, reflection and health.</summary>
    public static WebApplication MapGatewayGrpc(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var endpoint = app.Services.GetRequiredService<GrpcEndpoint>();
        var limits = app.Services.GetRequiredService<IOptions<GrpcOptions>>().Value;
        if (endpoint.Url is { } url)
        {
            // The host binds the configured urls only while this list is empty: give it those and the gRPC address.
            if (app.Urls.Count == 0)
            {
                foreach (var configured in (app.Configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    app.Urls.Add(configured);
                }
            }

            app.Urls.Add(url);
            LogServing(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayGrpcExtensions)), url);
        }

        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseCors();
        app.Use(GrpcSigning.MessageHashTap);
        Map(app.MapGrpcService<ClusterGrpcService>(), limits);
        Map(app.MapGrpcService<ModulesGrpcService>(), limits);
        Map(app.MapGrpcService<JobsGrpcService>(), limits);
        Map(app.MapGrpcService<ObjectsGrpcService>(), limits);
        Map(app.MapGrpcService<NodesGrpcService>(), limits);
        Map(app.MapGrpcService<StorageGrpcService>(), limits);
        if (app.Services.GetService<LedgerService>() is not null)
        {
            Map(app.MapGrpcService<LedgerGrpcService>(), limits);
        }

        Map(app.MapGrpcReflectionService(), limits);
        Map(app.MapGrpcHealthChecksService(), limits);
        return app;
    }

    // Signatures are checked by the gRPC interceptor (the REST middleware would answer problem+json).
    private static void Map(IEndpointConventionBuilder builder, GrpcOptions limits)
    {
        builder.WithMetadata(AuthenticatedElsewhere.Instance);
        if (limits.WebOrigins.Count > 0)
        {
            builder.RequireCors(WebCorsPolicy);
        }
    }

    [LoggerMessage(EventId = 3450, Level = LogLevel.Information, Message = "gRPC (xmbl.v1, reflection, health) on {Url}; gRPC-Web on the HTTP addresses")]
    private static partial void LogServing(ILogger logger, string url);
}

/// <summary>The gRPC health service's check: the same problems <c>/healthz</c> reports.</summary>
internal sealed class SiloHealthCheck(IEnumerable<ISiloHealthReporter> reporters) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        foreach (var reporter in reporters)
        {
            reporter.AddProblems(problems);
        }

        return Task.FromResult(problems.Count == 0 ? HealthCheckResult.Healthy("ok") : HealthCheckResult.Unhealthy("degraded: " + string.Join("; ", problems)));
    }
}
