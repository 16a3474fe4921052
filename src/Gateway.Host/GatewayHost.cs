using Xmbl.Cluster.Gateway.Hosting;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Gateway.Host;

/// <summary>Runs a standalone gateway process: configuration and composition; errors and exit codes as <see cref="ProcessHost"/>.</summary>
public static class GatewayHost
{
    /// <summary>Exit code when the configuration is invalid (the message names the key).</summary>
    public const int ConfigurationError = ProcessHost.ConfigurationError;

    /// <summary>Exit code when the gateway could not start (no silo answers, database unreachable, port taken, …).</summary>
    public const int StartupError = ProcessHost.StartupError;

    /// <summary>Builds and runs the gateway until Ctrl+C / SIGTERM; returns the process exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Adds the cluster client, the gateway and the dashboard.</param>
    /// <param name="map">Maps their endpoints.</param>
    public static Task<int> RunAsync(string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return ProcessHost.RunAsync("gateway", args, builder =>
        {
            builder.Configuration.AddClusterClientShortForms(args);
            if (string.IsNullOrWhiteSpace(builder.Configuration["urls"]))
            {
                builder.WebHost.UseUrls(ClusterClientConfiguration.DefaultUrl);
            }

            configure(builder);
        }, map);
    }
}
