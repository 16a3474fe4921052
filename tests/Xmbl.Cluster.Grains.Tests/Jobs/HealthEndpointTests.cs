using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>The silo's <c>/healthz</c> over HTTP, composed as the silo's Program does, with a runner whose runs can hang.</summary>
[Trait("Suite", "Functional")]
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Healthz_Answers503Degraded_WhileANodeHasMoreStuckRunsThanAllowed_AndOkOnceTheyReturn()
    {
        using var data = new TempDirectory("xmbl-health");
        using var runner = new ScriptedRunner();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SiloConfiguration.DataDirectoryKey] = data.Path,
            ["Xmbl:Node:Count"] = "1",
            ["Xmbl:Node:Concurrency"] = "1",
            ["Xmbl:Compute:StuckRunGrace"] = "00:00:00.200",
            ["Xmbl:Compute:MaxStuckRuns"] = "0",
            ["Xmbl:Compute:MaxAttempts"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
            [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9");
        builder.Services.AddGateway();
        builder.Services.AddCompute(builder.Configuration, silo);
        builder.Services.AddOrleans(orleans => orleans.AddDashboard());
        builder.Services.AddSingleton<IJobRunner>(runner);
        await using var app = builder.Build();
        app.MapGateway();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var jobs = app.Services.GetRequiredService<JobService>();
        var hash = (await app.Services.GetRequiredService<Xmbl.Cluster.Grains.Jobs.Modules.ModuleStore>().AddAsync(ComputeSilo.Fixture("hello.wasm"))).Hash;
        Assert.Equal("ok", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        var submitter = Ledger.LedgerSilo.NewAccount();
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<Xmbl.Cluster.Grains.Interfaces.Ledger.IAccountGrain>(submitter).MintAsync(ComputeSilo.Funds, 1, DateTimeOffset.UtcNow);

        var hung = await jobs.SubmitAsync(new JobRequest(hash, Args: ["hang"], WallTime: TimeSpan.FromMilliseconds(100), Validators: 0, Submitter: submitter));
        await WaitFinalAsync(jobs, hung.Id);

        using (var degraded = await http.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, degraded.StatusCode);
            var body = await degraded.Content.ReadAsStringAsync();
            Assert.StartsWith("degraded: node did:key:", body, StringComparison.Ordinal);
            Assert.Contains("1 run(s) stuck past their wall-clock limit", body, StringComparison.Ordinal);
        }

        runner.ReleaseHung();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        while ((status = (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.OK, status);
        await app.StopAsync();
    }

    private static async Task WaitFinalAsync(JobService jobs, string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await jobs.GetAsync(id)) is not { IsFinal: true })
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
