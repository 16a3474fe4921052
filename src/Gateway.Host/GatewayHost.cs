using Microsoft.Extensions.Options;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Gateway.Host;

/// <summary>Runs a standalone gateway process: configuration, composition, start-up errors turned into messages and exit codes.</summary>
public static class GatewayHost
{
    /// <summary>Exit code when the configuration is invalid (the message names the key).</summary>
    public const int ConfigurationError = 2;

    /// <summary>Exit code when the gateway could not start (no silo answers, database unreachable, port taken, …).</summary>
    public const int StartupError = 3;

    /// <summary>Builds and runs the gateway until Ctrl+C / SIGTERM; returns the process exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Adds the cluster client, the gateway and the dashboard.</param>
    /// <param name="map">Maps their endpoints.</param>
    public static async Task<int> RunAsync(string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(map);
        WebApplication app;
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddClusterClientShortForms(args);
            if (string.IsNullOrWhiteSpace(builder.Configuration["urls"]))
            {
                builder.WebHost.UseUrls(ClusterClientConfiguration.DefaultUrl);
            }

            configure(builder);
            app = builder.Build();
            map(app);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or InvalidDataException or OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"xmbl gateway: invalid configuration: {ex.Message}");
            return ConfigurationError;
        }

        try
        {
            await app.StartAsync();
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"xmbl gateway: invalid configuration: {string.Join(" ", ex.Failures)}");
            await app.DisposeAsync();
            return ConfigurationError;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No silo in the membership table, a database that is down, a port already taken: say what failed and stop.
            await Console.Error.WriteLineAsync($"xmbl gateway: could not start: {ex.Message}");
            await app.DisposeAsync();
            return StartupError;
        }

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }
}
