using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Spectre.Console;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl put</c>, <c>get</c>, <c>ls</c> and <c>rm</c>: files in the cluster's erasure-coded object store.</summary>
public static class ObjectCommand
{
    /// <summary>Transfers at least this large show a progress bar on a terminal.</summary>
    public const long ProgressThreshold = 8L * 1024 * 1024;

    /// <summary>Creates the four object commands.</summary>
    public static IEnumerable<Command> Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        return [Put(console), Get(console), List(console), Remove(console)];
    }

    private static Command Put(CliConsole console)
    {
        var file = new Argument<FileInfo>("file") { Description = "The file to store ('-' reads standard input)." };
        var address = new Argument<string>("address") { Description = "Where to store it: namespace/name." };
        var contentType = new Option<string?>("--content-type") { Description = "Media type served back on reads (default: from the file extension).", HelpName = "TYPE" };
        var command = new Command("put", "Store a file as namespace/name.") { file, address, contentType };
        command.SetAction((parse, ct) => RunAsync(console, async () =>
        {
            var target = parse.GetValue(address)!;
            if (!ObjectClient.TrySplit(target, out _, out _))
            {
                return await UsageAsync(console, $"'{target}' is not namespace/name.");
            }

            var source = parse.GetValue(file)!;
            var fromStdin = source.Name == "-";
            if (!fromStdin && !source.Exists)
            {
                return await UsageAsync(console, $"no file '{source.FullName}'.");
            }

            using var client = ObjectClient.Create(GlobalOptions.GetGateway(parse), await Wallets.OpenOrCreateAsync(parse, console));
            await using var stream = fromStdin ? await BufferStdinAsync(console, ct) : source.OpenRead();
            var type = parse.GetValue(contentType) ?? ContentTypes.Guess(source.Name);

            // The signature covers the body's hash, so the file is hashed before it is sent; the gateway checks it on arrival.
            var sha256 = await RequestSigner.HashBodyAsync(stream, ct);
            stream.Position = 0;
            var created = await WithProgressAsync(console, "put " + target, stream.Length, stream, counted =>
                client.PutAsync(target, counted, stream.Length, sha256, type, ct));
            await console.Out.WriteLineAsync(
                $"{created.GetProperty("namespace").GetString()}/{created.GetProperty("name").GetString()}  " +
                $"{created.GetProperty("size").GetInt64().ToString(CultureInfo.InvariantCulture)} bytes  sha256 {created.GetProperty("sha256").GetString()}");
            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Command Get(CliConsole console)
    {
        var address = new Argument<string>("address") { Description = "The object: namespace/name." };
        var file = new Argument<FileInfo?>("file") { Description = "Where to write it (default: standard output).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("get", "Fetch an object into a file or to standard output.") { address, file };
        command.SetAction((parse, ct) => RunAsync(console, async () =>
        {
            var source = parse.GetValue(address)!;
            if (!ObjectClient.TrySplit(source, out _, out _))
            {
                return await UsageAsync(console, $"'{source}' is not namespace/name.");
            }

            using var client = ObjectClient.Create(GlobalOptions.GetGateway(parse), Wallets.OpenIfExists(parse));
            using var response = await client.GetAsync(source, ct);
            var length = response.Content.Headers.ContentLength ?? -1;
            var announced = response.Headers.TryGetValues(ObjectClient.Sha256Header, out var values) ? values.FirstOrDefault() : null;
            await using var raw = await response.Content.ReadAsStreamAsync(ct);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var body = new ObservedReadStream(raw, hash.AppendData);
            if (parse.GetValue(file) is not { } target)
            {
                await body.CopyToAsync(console.Stdout, ct);
                CheckSha256(source, hash, announced, "the bytes written above are not the object");
                return CliExitCodes.Success;
            }

            // Download beside the target and rename at the end, so a failed download never leaves a partial file behind.
            var temp = target.FullName + ".xmbl-partial";
            try
            {
                await using (var output = File.Create(temp))
                {
                    await WithProgressAsync(console, "get " + source, length, body, async counted =>
                    {
                        await counted.CopyToAsync(output, ct);
                        return 0;
                    });
                }

                CheckSha256(source, hash, announced, "nothing was written");
                File.Move(temp, target.FullName, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            return CliExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Compares a download with the SHA-256 the gateway announced (absent from older gateways: then nothing is checked).</summary>
    private static void CheckSha256(string source, IncrementalHash hash, string? announced, string consequence)
    {
        var actual = Convert.ToHexStringLower(hash.GetCurrentHash());
        if (announced is not null && !string.Equals(actual, announced, StringComparison.OrdinalIgnoreCase))
        {
            throw new ObjectClientException($"'{source}' arrived with SHA-256 {actual}, not the {announced} the gateway announced; {consequence}.");
        }
    }

    private static Command List(CliConsole console)
    {
        var prefix = new Argument<string>("prefix") { Description = "namespace, or namespace/name-prefix." };
        var limit = new Option<int>("--limit") { Description = "Most objects to list.", DefaultValueFactory = _ => 1000, HelpName = "N" };
        var command = new Command("ls", "List objects by name prefix.") { prefix, limit };
        command.SetAction((parse, ct) => RunAsync(console, async () =>
        {
            var text = parse.GetValue(prefix)!;
            ObjectClient.TrySplit(text, out var ns, out var namePrefix);
            var remaining = parse.GetValue(limit);
            if (remaining < 1)
            {
                return await UsageAsync(console, "--limit must be at least 1.");
            }

            using var client = ObjectClient.Create(GlobalOptions.GetGateway(parse), Wallets.OpenIfExists(parse));
            string? after = null;
            do
            {
                var page = await client.ListAsync(ns, namePrefix, after, Math.Min(remaining, 1000), ct);
                foreach (var item in page.GetProperty("items").EnumerateArray())
                {
                    await console.Out.WriteLineAsync(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{item.GetProperty("size").GetInt64(),14}  {item.GetProperty("created").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss}  {ns}/{item.GetProperty("name").GetString()}"));
                    remaining--;
                }

                after = page.TryGetProperty("next", out var next) ? next.GetString() : null;
            }
            while (after is not null && remaining > 0);

            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Command Remove(CliConsole console)
    {
        var address = new Argument<string>("address") { Description = "The object: namespace/name." };
        var command = new Command("rm", "Delete an object and reclaim its shards.") { address };
        command.SetAction((parse, ct) => RunAsync(console, async () =>
        {
            var target = parse.GetValue(address)!;
            if (!ObjectClient.TrySplit(target, out _, out _))
            {
                return await UsageAsync(console, $"'{target}' is not namespace/name.");
            }

            using var client = ObjectClient.Create(GlobalOptions.GetGateway(parse), await Wallets.OpenOrCreateAsync(parse, console));
            await client.DeleteAsync(target, ct);
            return CliExitCodes.Success;
        }));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ObjectClientException ex)
        {
            await console.Error.WriteLineAsync("error: " + ex.Message);
            return CliExitCodes.Failure;
        }
        catch (HttpRequestException ex)
        {
            await console.Error.WriteLineAsync($"error: cannot reach the gateway: {ex.Message} (set --gateway or ${GlobalOptions.GatewayEnvironmentVariable})");
            return CliExitCodes.Failure;
        }
        catch (IOException ex)
        {
            await console.Error.WriteLineAsync("error: " + ex.Message);
            return CliExitCodes.Failure;
        }
    }

    private static async Task<int> UsageAsync(CliConsole console, string message)
    {
        await console.Error.WriteLineAsync("error: " + message);
        return CliExitCodes.Usage;
    }

    private static async Task<Stream> BufferStdinAsync(CliConsole console, CancellationToken ct)
    {
        // The gateway wants a length up front; stdin has none, so it is spooled to a temp file (not memory).
        var spool = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        await console.Stdin.CopyToAsync(spool, ct);
        spool.Position = 0;
        return spool;
    }

    private static async Task<T> WithProgressAsync<T>(CliConsole console, string label, long length, Stream stream, Func<Stream, Task<T>> transfer)
    {
        if (!console.IsTerminal || length < ProgressThreshold)
        {
            return await transfer(stream);
        }

        var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) });
        T result = default!;
        await terminal.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(label, maxValue: length);
                await using var counted = new ObservedReadStream(stream, data => task.Increment(data.Length));
                result = await transfer(counted);
                task.Value = length;
            });
        return result;
    }
}
