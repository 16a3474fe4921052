using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Gateway;

/// <summary>An embedded silo with the gateway on a free loopback port, composed as the silo's Program does, in this process.</summary>
internal sealed class GatewayApp : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private GatewayApp(TempDirectory data, WebApplication app)
    {
        _data = data;
        App = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>
    /// Credits for the caller (unsigned loopback requests act as the operator) from the embedded faucet: a job holds
    /// its maximum price from its submitter.
    /// </summary>
    public async Task FundAsync()
    {
        using var response = await Http.PostAsync(new Uri("/api/faucet", UriKind.Relative), new StringContent("{\"amount\": 1000000000}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Starts it; <paramref name="settings"/> go over the defaults, <paramref name="services"/> adds to the composition, <paramref name="map"/> maps more endpoints.</summary>
    public static async Task<GatewayApp> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null)
    {
        var data = new TempDirectory("xmbl-gateway");
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [SiloConfiguration.DataDirectoryKey] = data.Path,
                ["Xmbl:Node:Count"] = "2",
                ["Xmbl:Node:Concurrency"] = "2",
                ["Xmbl:Gateway:TrustLoopback"] = "true",
                ["Logging:LogLevel:Default"] = "Warning",
                [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }

            var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9");
            builder.Services.AddGateway();
            builder.Services.AddCompute(builder.Configuration, silo);
            builder.Services.AddLedger(builder.Configuration, silo);
            builder.Services.AddOrleans(orleans => orleans.AddDashboard());
            services?.Invoke(builder.Services);
            var app = builder.Build();
            app.MapGateway();
            map?.Invoke(app);
            await app.StartAsync();
            return new GatewayApp(data, app);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _data.Dispose();
    }
}
