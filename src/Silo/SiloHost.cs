using Xmbl.Cluster.Gateway.Hosting;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Silo;

/// <summary>Runs a silo process: configuration and composition; errors and exit codes as <see cref="ProcessHost"/>.</summary>
public static class SiloHost
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int ConfigurationError = ProcessHost.ConfigurationError;

    /// <summary>Exit code when the silo could not start (database unreachable, port taken, …).</summary>
    public const int StartupError = ProcessHost.StartupError;

    /// <summary>Builds and runs a silo until Ctrl+C / SIGTERM; returns the process exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Adds the components hosted beside the silo (gateway, dashboard, …).</param>
    /// <param name="map">Maps their endpoints.</param>
    public static Task<int> RunAsync(string[] args, Action<WebApplicationBuilder, SiloSetup> configure, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return ProcessHost.RunAsync("silo", args, builder =>
        {
            builder.Configuration.AddSiloShortForms(args);
            var urls = builder.Configuration["urls"];
            if (string.IsNullOrWhiteSpace(urls))
            {
                urls = SiloConfiguration.DefaultUrl;
                builder.WebHost.UseUrls(urls);
            }

            var address = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
            var silo = builder.Services.AddSilo(builder.Configuration, address);
            configure(builder, silo);
        }, map);
    }
}
