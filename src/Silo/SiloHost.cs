using Microsoft.Extensions.Options;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Silo;

/// <summary>Runs a silo process: configuration, composition, start-up errors turned into messages and exit codes.</summary>
public static class SiloHost
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int ConfigurationError = 2;

    /// <summary>Exit code when the silo could not start (database unreachable, port taken, …).</summary>
    public const int StartupError = 3;

    /// <summary>Builds and runs a silo until Ctrl+C / SIGTERM; returns the process exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Adds the components hosted beside the silo (gateway, dashboard, …).</param>
    /// <param name="map">Maps their endpoints.</param>
    public static async Task<int> RunAsync(string[] args, Action<WebApplicationBuilder, SiloSetup> configure, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(map);
        WebApplication app;
        try
        {
            // appsettings.json ships beside the binaries, so it is found from any working directory; relative
            // paths (./data) stay relative to where the silo was started.
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
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
            app = builder.Build();
            map(app);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or InvalidDataException or OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"xmbl silo: invalid configuration: {ex.Message}");
            return ConfigurationError;
        }

        try
        {
            await app.StartAsync();
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"xmbl silo: invalid configuration: {string.Join(" ", ex.Failures)}");
            return ConfigurationError;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A database that is down, a port already taken: say what failed and stop, rather than retrying forever.
            await Console.Error.WriteLineAsync($"xmbl silo: could not start: {ex.Message}");
            await app.DisposeAsync();
            return StartupError;
        }

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }
}
