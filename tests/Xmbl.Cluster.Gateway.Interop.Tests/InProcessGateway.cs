using System.Globalization;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Gateway.Interop.Tests;

/// <summary>
/// An embedded silo composed as src/Silo/Program.cs composes it, in this process, so a test can read the silo's own
/// services (the stripe buffer pool) after driving it through its gRPC port.
/// </summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private InProcessGateway(TempDirectory data, WebApplication app, string http, string grpc)
    {
        _data = data;
        App = app;
        HttpUrl = http;
        GrpcUrl = grpc;
        Channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20 });
    }

    public WebApplication App { get; }

    public string HttpUrl { get; }

    public string GrpcUrl { get; }

    public GrpcChannel Channel { get; }

    /// <summary>An unsigned client of the HTTP port (loopback: it acts as the operator).</summary>
    public HttpClient Http() => new() { BaseAddress = new Uri(HttpUrl) };

    public T Service<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<InProcessGateway> StartAsync(params string[] extra)
    {
        var data = new TempDirectory("xmbl-grpc-inproc");
        var http = $"http://127.0.0.1:{Port()}";
        var grpc = $"http://127.0.0.1:{Port()}";
        string[] args =
        [
            "--urls", http, "--grpc-urls", grpc, "--data", data.Path, "--nodes", "3", "--trust-loopback",
            "--silo-port", Port(), "--gateway-port", Port(), .. extra,
        ];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = "Production" });
        builder.Configuration.AddSiloShortForms(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var silo = builder.Services.AddSilo(builder.Configuration, http);
        builder.Services.AddGateway();
        builder.Services.AddCompute(builder.Configuration, silo);
        builder.Services.AddLedger(builder.Configuration, silo);
        builder.Services.AddOrleans(orleans => orleans.AddDashboard());
        var app = builder.Build();
        try
        {
            app.MapGateway();
            await app.StartAsync();
        }
        catch
        {
            // A refused configuration: nothing may outlive the attempt.
            await app.DisposeAsync();
            data.Dispose();
            throw;
        }

        return new InProcessGateway(data, app, http, grpc);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _data.Dispose();
    }

    private static string Port() => TcpPorts.Free().ToString(CultureInfo.InvariantCulture);
}
