using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Dashboard;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Page;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Storage.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the gateway: the REST API, health checks and problem-details errors.</summary>
public static class GatewayExtensions
{
    /// <summary>Adds the gateway's services; <c>Xmbl:Gateway</c> binds <see cref="GatewayOptions"/> (operator, signatures).</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        // Bodies and shards are large: Kestrel's sockets read and write them in 64 KiB blocks rather than 4 KiB ones.
        services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, BulkTransferMemoryPoolFactory>();
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddSingleton(sp => RequestSigning.Create(
            sp,
            Path.GetFullPath(sp.GetRequiredService<IConfiguration>()[SiloConfiguration.DataDirectoryKey] ?? SiloConfiguration.DefaultDataDirectory)));
        services.AddProblemDetails();
        services.AddExceptionHandler<ClusterUnavailableHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });

        // The network page at / and its live feed.
        services.AddNetworkFeed();
        // gRPC and gRPC-Web (xmbl.v1): its own port, limits and CORS (GatewayGrpcExtensions).
        services.AddGatewayGrpc();
        // REST coherence (docs/api.md): the last exception handler, per-client rate limits, the OpenAPI document,
        // quiet request logging and telemetry.
        services.AddExceptionHandler<ErrorProblems>();
        services.AddSingleton<FinalJobViews>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>()
            .Configure<IOptions<GatewayOptions>>((limiter, gateway) => ClientRateLimiting.Configure(limiter, gateway.Value.RateLimit));
        services.AddOpenApi();
        // ASP.NET Core logs several Information lines per request: Warning unless configuration says otherwise. Put
        // first, so that a Logging:LogLevel:Microsoft.AspNetCore key (as specific, later in the list) wins over it.
        services.Configure<LoggerFilterOptions>(o => o.Rules.Insert(0, new LoggerFilterRule(null, "Microsoft.AspNetCore", LogLevel.Warning, null)));
        services.AddClusterTelemetry();

        // The application layer REST and gRPC share (src/Gateway/Application): paging rules and the operator's controls.
        services.AddSingleton<Xmbl.Cluster.Gateway.Application.Paging>();
        services.AddSingleton<Xmbl.Cluster.Gateway.Application.NodeControl>();
        return services;
    }

    /// <summary>The path of the Orleans Dashboard (silos, grains, call rates).</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>Maps the gateway's endpoints: <c>/healthz</c>, the <c>/api</c> routes and the Orleans Dashboard at <see cref="DashboardPath"/>.</summary>
    public static IEndpointRouteBuilder MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDotSegmentCheck();

        // The network page's files, before the API's middleware: static bytes that need no caller.
        app.Use(app.Services.GetRequiredService<NetworkPage>().InvokeAsync);

        // Resolved now, so that a bad operator key or option stops the silo at start, naming the key.
        var signing = app.Services.GetRequiredService<RequestSigning>();
        app.Use(signing.InvokeAsync);
        // After signing: a signed request counts against its verified did:key, an unsigned one against its address.
        app.UseRateLimiter();
        app.Use(BodyLimits.Middleware(app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxRequestBodyBytes));
        app.MapOpenApi();

        // gRPC and gRPC-Web: the same application services as the routes below.
        app.MapGatewayGrpc();

        // Exempt from rate limits: load balancers and orchestrators probe it, and a limited probe would look like an outage.
        app.MapGet("/healthz", static (HttpContext context) => SiloHealth(context)).WithName("Health")
            .WithSummary("200 ok, or 503 degraded: … naming each problem the silo's parts report.")
            .DisableRateLimiting();
        app.MapClusterEndpoints();
        app.MapObjectEndpoints();
        app.MapComputeEndpoints();
        app.MapNodeEndpoints();
        app.MapNetworkEndpoints();

        // The ledger's API where the host added the ledger (the silo does; hosts that test other parts may not).
        if (app.Services.GetService<Xmbl.Cluster.Grains.Ledger.LedgerService>() is not null)
        {
            app.MapLedgerEndpoints();
        }

        // The service library where the host added it (AddServiceLibrary).
        if (app.Services.GetService<Xmbl.Cluster.Grains.Services.ServiceLibrary>() is not null)
        {
            app.MapServicesEndpoints();
        }

        // Tasks (issue 17 point 4): the task grain runs the workflow where the library is.
        if (app.Services.GetService<Xmbl.Cluster.Grains.Services.ServiceLibrary>() is not null)
        {
            app.MapTasksEndpoints();
        }

        // Orleans' own UI and the JSON it polls: not part of our API, so not in the OpenAPI document.
        app.MapOrleansDashboard(DashboardPath).ExcludeFromDescription();

        // Cluster mode: other silos reach this silo's shard stores here, signed with the cluster secret.
        // The DI overload also takes the host's logger, so rejected requests are logged. A standalone gateway
        // stores no shards itself, but serves those of its edge nodes (libp2p bridge on) the same way.
        if (app.Services.GetService<ShardRequestAuthenticator>() is not null && (app.Services.GetService<LocalNodes>() is not null || ServesEdgeShards(app.Services)))
        {
            // Members only, between silos: neither rate limited per client nor described to clients.
            app.MapShardEndpoints().WithMetadata(AuthenticatedElsewhere.Instance, OwnsBodyLimit.Instance).DisableRateLimiting().ExcludeFromDescription();
        }

        // The shard relay (silos behind NAT, docs/reliability.md): their tunnels here and the shard requests forwarded
        // over them; on a relayed silo also its own shard endpoints under the relay's path. Signed like the shard routes.
        if (app.Services.GetService<Xmbl.Cluster.Storage.Transport.Relay.ShardRelayHub>() is not null && app.Services.GetService<LocalNodes>() is not null)
        {
            Xmbl.Cluster.Storage.Transport.Relay.ShardRelayEndpointRouteBuilderExtensions.MapShardRelay(app)
                .WithMetadata(AuthenticatedElsewhere.Instance, OwnsBodyLimit.Instance).DisableRateLimiting().ExcludeFromDescription();
        }
        return app;
    }

    // A standalone gateway whose libp2p bridge serves edge nodes: they hold shards behind its shard endpoints.
    private static bool ServesEdgeShards(IServiceProvider services) =>
        services.GetService<Xmbl.Cluster.Gateway.P2P.P2PBridge>() is not null
        && services.GetService<Xmbl.Cluster.Grains.Jobs.Execution.EdgeNodes>() is { Relayed: true };

    /// <summary>200 "ok", or 503 "degraded: …" with every problem the silo's parts report (e.g. a node with stuck runs).</summary>
    private static IResult SiloHealth(HttpContext context)
    {
        var problems = new List<string>();
        foreach (var reporter in context.RequestServices.GetServices<ISiloHealthReporter>())
        {
            reporter.AddProblems(problems);
        }

        return problems.Count == 0
            ? Results.Text("ok")
            : Results.Text("degraded: " + string.Join("; ", problems), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
