using Orleans.Dashboard;
using Xmbl.Cluster.Silo;

// The silo: grain runtime, this silo's nodes and (in embedded mode) the gateway in one process.
// All logic lives in libraries; this file only composes them. See README.md for the options.
return await SiloHost.RunAsync(args, static (builder, silo) =>
{
    builder.Services.AddGateway();
    builder.Services.AddCompute(builder.Configuration, silo);
    builder.Services.AddLedger(builder.Configuration, silo);
    builder.Services.AddServiceLibrary(builder.Configuration);
    builder.Services.AddOrleans(orleans => orleans.AddDashboard());
    builder.Services.AddP2PBridge(builder.Configuration);
}, static app => app.MapGateway());
