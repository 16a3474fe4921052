using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.Hosting;

/// <summary>
/// The run loop of the silo and gateway executables: builds the web application, turns configuration and start-up
/// errors into a message on standard error and an exit code, and runs until Ctrl+C / SIGTERM.
/// </summary>
public static class ProcessHost
{
    /// <summary>Exit code when the configuration is invalid (the message names the key).</summary>
    public const int ConfigurationError = 2;

    /// <summary>Exit code when the process could not start (database unreachable, no silo answers, port taken, …).</summary>
    public const int StartupError = 3;

    /// <summary>Builds and runs the application; returns the process exit code (0 after a clean stop).</summary>
    /// <param name="process">The process's name in its messages (<c>silo</c> gives "xmbl silo: …").</param>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Composes the application: configuration sources, URLs, services.</param>
    /// <param name="map">Maps its endpoints.</param>
    public static async Task<int> RunAsync(string process, string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(map);
        WebApplication app;
        try
        {
            // appsettings.json ships beside the binaries, so it is found from any working directory; relative
            // paths (./data) stay relative to where the process was started.
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
            configure(builder);
            app = builder.Build();
            map(app);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or InvalidDataException or OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"xmbl {process}: invalid configuration: {ex.Message}");
            return ConfigurationError;
        }

        try
        {
            await app.StartAsync();
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"xmbl {process}: invalid configuration: {string.Join(" ", ex.Failures)}");
            await app.DisposeAsync();
            return ConfigurationError;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A database that is down, no silo in the membership table, a port already taken: say what failed and
            // stop, rather than retrying forever.
            await Console.Error.WriteLineAsync($"xmbl {process}: could not start: {ex.Message}");
            await app.DisposeAsync();
            return StartupError;
        }

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }
}
