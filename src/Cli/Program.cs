using Xmbl.Cluster.Cli;

// Thin entry point: everything lives in CliApplication so tests can run commands in-process.
return await CliApplication.RunAsync(args, CliConsole.FromProcess());
