using System.CommandLine;
using Xmbl.Cluster.Cli.Commands;

namespace Xmbl.Cluster.Cli;

/// <summary>Builds the <c>xmbl</c> command tree and runs it.</summary>
/// <remarks>Each command group lives in its own file under <c>Commands/</c> and is added in
/// <see cref="BuildRootCommand"/>; options shared by cluster commands are in <see cref="GlobalOptions"/>.</remarks>
public static class CliApplication
{
    /// <summary>Creates the root command with every command group.</summary>
    /// <param name="console">The streams commands read and write.</param>
    /// <returns>The root command.</returns>
    public static RootCommand BuildRootCommand(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var root = new RootCommand("xmbl: run WebAssembly locally, submit jobs and store files on an Xmbl cluster.");
        root.Options.Add(GlobalOptions.Gateway);
        root.Options.Add(Wallets.Option);
        root.Subcommands.Add(RunCommand.Create(console));
        root.Subcommands.Add(JobCommand.Create(console));
        root.Subcommands.Add(WalletCommand.Create(console));
        root.Subcommands.Add(NodeCommand.Create(console));
        root.Subcommands.Add(ServiceCommand.Create(console));
        root.Subcommands.Add(TaskCommand.Create(console));
        foreach (var command in ObjectCommand.Create(console))
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments (without the program name).</param>
    /// <param name="console">The streams commands read and write.</param>
    /// <param name="cancellationToken">Cancels the running command.</param>
    /// <returns>The process exit code (see <see cref="CliExitCodes"/>).</returns>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        try
        {
            var root = BuildRootCommand(console);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                {
                    await console.Error.WriteLineAsync("error: " + error.Message);
                }

                await console.Error.WriteLineAsync("Run 'xmbl --help' (or 'xmbl <command> --help') for usage.");
                return CliExitCodes.Usage;
            }

            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                // Our handler below prints one line instead of a stack trace.
                EnableDefaultExceptionHandler = false,
            };
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("error: cancelled");
            return CliExitCodes.Failure;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unexpected failures are bugs; keep the output to one line but name the exception type so it can be reported.
            await console.Error.WriteLineAsync($"error: unexpected {e.GetType().Name}: {e.Message}");
            return CliExitCodes.Failure;
        }
    }
}
