using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>
/// <c>xmbl job submit|status|output|ls|cancel</c>: jobs on a cluster through the gateway.
/// </summary>
/// <remarks>
/// <c>xmbl job submit FILE.wasm|HASH [-- ARGS] [--stdin FILE] [--validators N] [--wait]</c> uploads the module when a
/// file is given, submits, and prints the job id; with <c>--wait</c> it shows live status on stderr, then prints the
/// job's stdout and exits with the job's exit code; <c>--json</c> prints the job record instead.
/// </remarks>
public static class JobCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Creates the <c>job</c> command group.</summary>
    /// <param name="console">The streams the commands use.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var job = new Command("job", "Submit WebAssembly jobs to the cluster and follow them.");
        job.Subcommands.Add(Submit(console));
        job.Subcommands.Add(Status(console));
        job.Subcommands.Add(Output(console));
        job.Subcommands.Add(List(console));
        job.Subcommands.Add(Cancel(console));
        return job;
    }

    private static Command Submit(CliConsole console)
    {
        var module = new Argument<string>("module") { Description = "A .wasm file (uploaded first) or the SHA-256 of an uploaded module." };
        var args = new Argument<string[]>("args") { Description = "Arguments for the program; put them after '--'.", Arity = ArgumentArity.ZeroOrMore };
        var stdin = new Option<FileInfo?>("--stdin") { Description = "A file whose bytes are the job's standard input ('-' reads xmbl's stdin).", HelpName = "FILE" };
        var validators = new Option<int?>("--validators") { Description = "Nodes that re-run the job to check the result: 0, 1 or 2 (default 1).", HelpName = "N" };
        var wait = new Option<bool>("--wait") { Description = "Follow the job, print its stdout and exit with its exit code." };
        var json = new Option<bool>("--json") { Description = "Print the job record as JSON." };
        var entry = new Option<string?>("--entry") { Description = "Exported function to call instead of _start.", HelpName = "NAME" };
        var fuel = new Option<long?>("--fuel") { Description = "Fuel limit.", HelpName = "N" };
        var memory = new Option<int?>("--memory-pages") { Description = "Memory limit in 64 KiB pages.", HelpName = "N" };
        var timeout = new Option<int?>("--timeout-ms") { Description = "Wall-clock limit of one run, in milliseconds.", HelpName = "MS" };
        var maxPrice = new Option<decimal?>("--max-price") { Description = "Highest node price per million fuel accepted.", HelpName = "PRICE" };
        var env = new Option<string[]>("--env", "-e") { Description = "Environment variable KEY=VALUE. Repeatable.", HelpName = "KEY=VALUE", Arity = ArgumentArity.ZeroOrMore };
        var inputs = new Option<string[]>("--input", "-i") { Description = "A stored object the job reads, as the file /input/NS/NAME. Repeatable.", HelpName = "NS/NAME", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "Store the validated stdout as this object; NS/PREFIX/ (ending in '/') picks a unique name.", HelpName = "NS/NAME" };
        var command = new Command("submit", "Submit a job.") { module, args, stdin, validators, wait, json, entry, fuel, memory, timeout, maxPrice, env, inputs, output };
        command.SetAction(async (parse, ct) =>
        {
            JobClient client;
            try
            {
                client = JobClient.Create(GlobalOptions.GetGateway(parse), await Wallets.OpenOrCreateAsync(parse, console));
            }
            catch (IOException ex)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }

            using var owned = client;
            try
            {
                var moduleText = parse.GetValue(module)!;
                string hash;
                if (File.Exists(moduleText))
                {
                    hash = await client.UploadModuleAsync(await File.ReadAllBytesAsync(moduleText, ct), ct);
                }
                else if (moduleText.Length == 64 && moduleText.All(char.IsAsciiHexDigit))
                {
                    hash = moduleText.ToLowerInvariant();
                }
                else
                {
                    await console.Error.WriteLineAsync($"error: '{moduleText}' is neither a file nor a module hash (64 hex digits).");
                    return CliExitCodes.Usage;
                }

                var body = new JsonObject { ["module"] = hash };
                if (parse.GetValue(entry) is { } e)
                {
                    body["entry"] = e;
                }

                body["args"] = new JsonArray([.. (parse.GetValue(args) ?? []).Select(a => (JsonNode)a)]);
                var envObject = new JsonObject();
                foreach (var pair in parse.GetValue(env) ?? [])
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        await console.Error.WriteLineAsync($"error: --env '{pair}' is not KEY=VALUE.");
                        return CliExitCodes.Usage;
                    }

                    envObject[pair[..eq]] = pair[(eq + 1)..];
                }

                body["env"] = envObject;
                if (parse.GetValue(stdin) is { } file)
                {
                    byte[] bytes;
                    if (file.Name == "-")
                    {
                        using var buffer = new MemoryStream();
                        await console.Stdin.CopyToAsync(buffer, ct);
                        bytes = buffer.ToArray();
                    }
                    else
                    {
                        bytes = await File.ReadAllBytesAsync(file.FullName, ct);
                    }

                    body["stdinBase64"] = Convert.ToBase64String(bytes);
                }

                if (parse.GetValue(validators) is { } v)
                {
                    body["validators"] = v;
                }

                if (parse.GetValue(inputs) is { Length: > 0 } inputObjects)
                {
                    body["inputObjects"] = new JsonArray([.. inputObjects.Select(i => (JsonNode)i)]);
                }

                if (parse.GetValue(output) is { } outputObject)
                {
                    body["outputObject"] = outputObject;
                }

                if (parse.GetValue(maxPrice) is { } p)
                {
                    body["maxPrice"] = p;
                }

                var limits = new JsonObject();
                if (parse.GetValue(fuel) is { } f)
                {
                    limits["fuel"] = f;
                }

                if (parse.GetValue(memory) is { } m)
                {
                    limits["memoryPages"] = m;
                }

                if (parse.GetValue(timeout) is { } t)
                {
                    limits["wallTimeMs"] = t;
                }

                body["limits"] = limits;
                var record = await client.SubmitAsync(body, ct, console.Error.WriteLineAsync);
                var id = record.GetProperty("id").GetString()!;
                if (!parse.GetValue(wait))
                {
                    await console.Out.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(record, Indented) : id);
                    return CliExitCodes.Success;
                }

                var final = record;
                await foreach (var update in client.WatchAsync(id, ct))
                {
                    final = update;
                    await console.Error.WriteLineAsync(DescribeStatus(update));
                }

                return await FinishAsync(client, console, final, parse.GetValue(json), ct);
            }
            catch (Exception ex) when (ex is JobClientException or HttpRequestException or IOException or UnauthorizedAccessException)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>After <c>--wait</c>: print stdout (or the record) and pick the exit code.</summary>
    private static async Task<int> FinishAsync(JobClient client, CliConsole console, JsonElement job, bool json, CancellationToken ct)
    {
        var status = job.GetProperty("status").GetString();
        var id = job.GetProperty("id").GetString()!;
        if (json)
        {
            await console.Out.WriteLineAsync(JsonSerializer.Serialize(job, Indented));
        }

        if (status != "Settled")
        {
            await console.Error.WriteLineAsync($"error: job {id} {status?.ToLowerInvariant()}: {Text(job, "reason")}");
            return CliExitCodes.Failure;
        }

        if (!json)
        {
            var output = await client.GetOutputAsync(id, ct);
            await console.Stdout.WriteAsync(output, ct);
            await console.Stdout.FlushAsync(ct);
        }

        if (Text(job, "outcome") is not ("Exited" or "Returned"))
        {
            await console.Error.WriteLineAsync($"error: job {id} ended {Text(job, "outcome")}: {Text(job, "reason")}");
        }

        return job.TryGetProperty("exitCode", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : CliExitCodes.Failure;
    }

    private static Command Status(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The job id." };
        var json = new Option<bool>("--json") { Description = "Print the job record as JSON." };
        var command = new Command("status", "Show a job's status.") { id, json };
        command.SetAction(async (parse, ct) => await RunAsync(console, parse, async client =>
        {
            var job = await client.GetAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(job, Indented));
                return CliExitCodes.Success;
            }

            await console.Out.WriteLineAsync($"job       {Text(job, "id")}");
            await console.Out.WriteLineAsync($"status    {Text(job, "status")}");
            await console.Out.WriteLineAsync($"module    {Text(job, "module")} ({Text(job, "entry")})");
            await console.Out.WriteLineAsync($"executor  {Text(job, "executor")}");
            await console.Out.WriteLineAsync($"validators {string.Join(", ", job.GetProperty("validatorNodes").EnumerateArray().Select(v => v.GetString()))}");
            await console.Out.WriteLineAsync($"outcome   {Text(job, "outcome")} exit {Text(job, "exitCode")} fuel {Text(job, "fuel")}");
            await console.Out.WriteLineAsync($"result    {Text(job, "resultHash")}");
            await console.Out.WriteLineAsync($"price     {Text(job, "price")}");
            if (job.TryGetProperty("storedOutput", out var stored) && stored.ValueKind == JsonValueKind.String)
            {
                await console.Out.WriteLineAsync($"output    stored as {stored.GetString()}");
            }

            if (job.TryGetProperty("reason", out _))
            {
                await console.Out.WriteLineAsync($"reason    {Text(job, "reason")}");
            }

            foreach (var t in job.GetProperty("transitions").EnumerateArray())
            {
                await console.Out.WriteLineAsync($"  {Text(t, "at")}  {Text(t, "from"),-10} -> {Text(t, "to"),-10} {Text(t, "nodeId")} {Text(t, "reason")}");
            }

            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Command Output(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The job id." };
        var command = new Command("output", "Print a job's stdout.") { id };
        command.SetAction(async (parse, ct) => await RunAsync(console, parse, async client =>
        {
            var bytes = await client.GetOutputAsync(parse.GetValue(id)!, ct);
            await console.Stdout.WriteAsync(bytes, ct);
            await console.Stdout.FlushAsync(ct);
            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var status = new Option<string?>("--status") { Description = "Only jobs in this status.", HelpName = "STATUS" };
        var limit = new Option<int?>("--limit") { Description = "Jobs per page (default 50).", HelpName = "N" };
        var after = new Option<string?>("--after") { Description = "Continue after this job id (the 'next' of the previous page).", HelpName = "ID" };
        var json = new Option<bool>("--json") { Description = "Print the page as JSON." };
        var command = new Command("ls", "List jobs in submission order.") { status, limit, after, json };
        command.SetAction(async (parse, ct) => await RunAsync(console, parse, async client =>
        {
            var query = new List<string>();
            if (parse.GetValue(status) is { } s)
            {
                query.Add("status=" + Uri.EscapeDataString(s));
            }

            if (parse.GetValue(limit) is { } l)
            {
                query.Add("limit=" + l.ToString(CultureInfo.InvariantCulture));
            }

            if (parse.GetValue(after) is { } a)
            {
                query.Add("after=" + Uri.EscapeDataString(a));
            }

            var page = await client.ListAsync(query.Count == 0 ? "" : "?" + string.Join('&', query), ct);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(page, Indented));
                return CliExitCodes.Success;
            }

            await console.Out.WriteLineAsync($"{"ID",-26} {"STATUS",-10} {"OUTCOME",-10} {"EXIT",4} {"FUEL",14} {"PRICE",12}  EXECUTOR");
            foreach (var job in page.GetProperty("items").EnumerateArray())
            {
                await console.Out.WriteLineAsync($"{Text(job, "id"),-26} {Text(job, "status"),-10} {Text(job, "outcome"),-10} {Text(job, "exitCode"),4} {Text(job, "fuel"),14} {Text(job, "price"),12}  {Text(job, "executor")}");
            }

            if (page.TryGetProperty("next", out var next) && next.GetString() is { } n)
            {
                await console.Error.WriteLineAsync($"more: xmbl job ls --after {n}");
            }

            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Command Cancel(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The job id." };
        var command = new Command("cancel", "Cancel a job unless it has finished.") { id };
        command.SetAction(async (parse, ct) => await RunAsync(console, parse, changes: true, async client =>
        {
            var job = await client.CancelAsync(parse.GetValue(id)!, ct);
            await console.Out.WriteLineAsync(DescribeStatus(job));
            return CliExitCodes.Success;
        }));
        return command;
    }

    private static Task<int> RunAsync(CliConsole console, ParseResult parse, Func<JobClient, Task<int>> action) =>
        RunAsync(console, parse, changes: false, action);

    /// <summary>Runs a command with a client; one that <paramref name="changes"/> something needs a wallet (created if missing), a read signs when there is one.</summary>
    private static async Task<int> RunAsync(CliConsole console, ParseResult parse, bool changes, Func<JobClient, Task<int>> action)
    {
        try
        {
            var key = changes ? await Wallets.OpenOrCreateAsync(parse, console) : Wallets.OpenIfExists(parse);
            using var client = JobClient.Create(GlobalOptions.GetGateway(parse), key);
            return await action(client);
        }
        catch (Exception ex) when (ex is JobClientException or HttpRequestException or IOException)
        {
            await console.Error.WriteLineAsync("error: " + ex.Message);
            return CliExitCodes.Failure;
        }
    }

    private static string DescribeStatus(JsonElement job)
    {
        var last = job.GetProperty("transitions").EnumerateArray().LastOrDefault();
        var detail = last.ValueKind == JsonValueKind.Object ? Text(last, "reason") : "";
        return $"job {Text(job, "id")}: {Text(job, "status")?.ToLowerInvariant()} - {detail}";
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => "",
                _ => value.GetRawText(),
            }
            : "";
}
