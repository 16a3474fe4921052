using Orleans.Dashboard;
using Xmbl.Cluster.Gateway.Host;
using Xmbl.Cluster.Hosting;

// A standalone gateway: an Orleans client of a cluster on PostgreSQL serving the REST API and the dashboard.
// All logic lives in libraries; this file only composes them. See README.md ("Running a standalone gateway").
return await GatewayHost.RunAsync(args, static builder =>
{
    builder.Services.AddClusterClient(builder.Configuration);
    builder.Services.AddGateway();
    builder.Services.AddLedger(builder.Configuration, embedded: false);
    builder.Services.AddServiceLibrary(builder.Configuration);
    builder.Services.AddOrleansClient(client => client.AddDashboard());
    builder.Services.AddP2PBridge(builder.Configuration);
}, static app => app.MapGateway());
