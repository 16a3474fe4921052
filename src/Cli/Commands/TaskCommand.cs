using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl task</c>: run a published service on the cluster, follow it, acknowledge its result.</summary>
internal static class TaskCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static Command Create(CliConsole console)
    {
        var task = new Command("task", "Run published services on the cluster (docs/services.md, \"Tasks\").");
        task.Subcommands.Add(Run(console));
        task.Subcommands.Add(Status(console));
        task.Subcommands.Add(Ack(console));
        return task;
    }

    private static Command Run(CliConsole console)
    {
        var service = new Argument<string>("service") { Description = "The package id." };
        var version = new Argument<string>("version") { Description = "The version." };
        var inputs = new Option<string[]>("--input") { Description = "An input: NAME=VALUE (a JSON number, boolean, object or array as such, anything else as text) or NAME=@FILE (a file input).", HelpName = "NAME=VALUE", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--output") { Description = "Where the outputs go: NAMESPACE/PREFIX/ (each output named by the manifest's format).", HelpName = "NS/PREFIX/", Required = true };
        var grants = new Option<string[]>("--grant") { Description = "A mesh-global namespace the task's storage capability may reach.", HelpName = "NAMESPACE" };
        var wait = new Option<bool>("--wait") { Description = "Follow the task until it ends, then print it; exit 0 when its result was delivered." };
        var command = new Command("run", "Request a task: the cluster checks the inputs, asks the nodes for their fitness and starts it on the fittest (your wallet signs and pays).") { service, version, inputs, output, grants, wait };
        command.SetAction(async (parse, ct) =>
        {
            var values = new JsonObject();
            foreach (var input in parse.GetValue(inputs) ?? [])
            {
                var equals = input.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    await console.Error.WriteLineAsync($"error: --input '{input}' is not NAME=VALUE.");
                    return CliExitCodes.Usage;
                }

                var (name, value) = (input[..equals], input[(equals + 1)..]);
                if (value.StartsWith('@'))
                {
                    var path = value[1..];
                    if (!File.Exists(path))
                    {
                        await console.Error.WriteLineAsync($"error: --input {name}: file not found: {path}");
                        return CliExitCodes.Failure;
                    }

                    values[name] = new JsonObject { ["name"] = Path.GetFileName(path), ["base64"] = Convert.ToBase64String(await File.ReadAllBytesAsync(path, ct)) };
                    continue;
                }

                values[name] = ParseValue(value);
            }

            using var key = await Wallets.OpenOrCreateAsync(parse, console);
            using var http = Wallets.Client(GlobalOptions.GetGateway(parse), key);
            var body = new JsonObject
            {
                ["service"] = parse.GetRequiredValue(service),
                ["version"] = parse.GetRequiredValue(version),
                ["inputs"] = values,
                ["outputs"] = parse.GetRequiredValue(output),
                ["storage"] = new JsonObject { ["global"] = new JsonArray([.. (parse.GetValue(grants) ?? []).Select(g => JsonValue.Create(g))]) },
            };
            var (ok, text) = await SendAsync(console, parse, () => http.PostAsJsonAsync(new Uri("api/tasks", UriKind.Relative), body, ct));
            if (!ok)
            {
                return CliExitCodes.Failure;
            }

            if (!parse.GetValue(wait))
            {
                await console.Out.WriteLineAsync(text);
                return CliExitCodes.Success;
            }

            var id = JsonDocument.Parse(text!).RootElement.GetProperty("id").GetString()!;
            while (true)
            {
                (ok, text) = await SendAsync(console, parse, () => http.GetAsync(new Uri("api/tasks/" + id, UriKind.Relative), ct));
                if (!ok)
                {
                    return CliExitCodes.Failure;
                }

                var status = JsonDocument.Parse(text!).RootElement.GetProperty("status").GetString();
                if (status != "Started")
                {
                    await console.Out.WriteLineAsync(text);
                    return status is "Delivered" or "Acknowledged" or "Reported" ? CliExitCodes.Success : CliExitCodes.Failure;
                }

                await Task.Delay(Poll, ct);
            }
        });
        return command;
    }

    private static Command Status(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The task id." };
        var command = new Command("status", "Show a task: status, fitness answers, node and job, stored outputs, deliveries.") { id };
        command.SetAction(async (parse, ct) =>
        {
            using var http = Wallets.Client(GlobalOptions.GetGateway(parse), null);
            var (ok, text) = await SendAsync(console, parse, () => http.GetAsync(new Uri("api/tasks/" + parse.GetRequiredValue(id), UriKind.Relative), ct));
            if (ok)
            {
                await console.Out.WriteLineAsync(text);
            }

            return ok ? CliExitCodes.Success : CliExitCodes.Failure;
        });
        return command;
    }

    private static Command Ack(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The task id." };
        var command = new Command("ack", "Acknowledge a delivered result (your wallet must be the task's recipient).") { id };
        command.SetAction(async (parse, ct) =>
        {
            using var key = await Wallets.OpenOrCreateAsync(parse, console);
            using var http = Wallets.Client(GlobalOptions.GetGateway(parse), key);
            var (ok, text) = await SendAsync(console, parse, () => http.PostAsync(new Uri($"api/tasks/{parse.GetRequiredValue(id)}/ack", UriKind.Relative), null, ct));
            if (ok)
            {
                await console.Out.WriteLineAsync(text);
            }

            return ok ? CliExitCodes.Success : CliExitCodes.Failure;
        });
        return command;
    }

    /// <summary>A JSON number, boolean, object or array as itself; any other text as a string.</summary>
    internal static JsonNode? ParseValue(string value)
    {
        try
        {
            var node = JsonNode.Parse(value);
            if (node is JsonObject or JsonArray || (node is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            {
                return node;
            }
        }
        catch (JsonException)
        {
        }

        return JsonValue.Create(value);
    }

    private static async Task<(bool Ok, string? Text)> SendAsync(CliConsole console, ParseResult parse, Func<Task<HttpResponseMessage>> send)
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (HttpRequestException e)
        {
            await console.Error.WriteLineAsync($"error: cannot reach the gateway at {GlobalOptions.GetGateway(parse)}: {e.Message}");
            return (false, null);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                await console.Error.WriteLineAsync("error: " + ProblemText.Describe(response.StatusCode, text));
                return (false, text);
            }

            return (true, text);
        }
    }
}
