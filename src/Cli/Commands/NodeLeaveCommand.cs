using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>
/// <c>xmbl node leave NODE [--wait]</c>: the node's graceful leave, signed with the wallet (which must be the silo's
/// operator key, e.g. <c>--wallet DATA/operator.key</c>).
/// </summary>
public static class NodeLeaveCommand
{
    /// <summary>How often <c>--wait</c> asks for the leave's progress.</summary>
    private static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Creates the <c>leave</c> command.</summary>
    public static Command Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var node = new Argument<string>("NODE") { Description = "The node (did:key:z6Mk…, as 'GET /api/cluster' lists it)." };
        var wait = new Option<bool>("--wait") { Description = "Follow the leave until the node has left (exit 0) or the leave stopped (exit 1), printing progress." };
        var command = new Command("leave", "Leave the cluster gracefully: the node takes no new jobs, finishes its runs, hands every shard to other nodes, then is marked left (its silo exits once all its nodes left). Operator only.") { node, wait };
        command.SetAction(async (parse, ct) =>
        {
            Identity.Ed25519KeyPair key;
            try
            {
                key = await Wallets.OpenOrCreateAsync(parse, console);
            }
            catch (IOException ex)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }

            using var http = Wallets.Client(GlobalOptions.GetGateway(parse), key);
            var path = "/api/nodes/" + Uri.EscapeDataString(parse.GetValue(node)!);
            try
            {
                using (var response = await http.PostAsync(new Uri(path + "/leave", UriKind.Relative), content: null, ct))
                {
                    var text = await response.Content.ReadAsStringAsync(ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new JobClientException(ProblemText.Describe(response.StatusCode, text));
                    }

                    var printed = await PrintAsync(console, JsonDocument.Parse(text).RootElement, previous: null);
                    if (!parse.GetValue(wait))
                    {
                        return CliExitCodes.Success;
                    }

                    while (true)
                    {
                        await Task.Delay(PollPeriod, ct);
                        using var poll = await http.GetAsync(new Uri(path, UriKind.Relative), ct);
                        var body = await poll.Content.ReadAsStringAsync(ct);
                        if (!poll.IsSuccessStatusCode)
                        {
                            throw new JobClientException(ProblemText.Describe(poll.StatusCode, body));
                        }

                        var current = JsonDocument.Parse(body).RootElement;
                        printed = await PrintAsync(console, current, printed);
                        var phase = current.GetProperty("leave").GetProperty("phase").GetString();
                        if (phase == "left")
                        {
                            return CliExitCodes.Success;
                        }

                        if (phase == "stopped")
                        {
                            await console.Error.WriteLineAsync("error: the leave stopped: " + current.GetProperty("leave").GetProperty("reason").GetString());
                            return CliExitCodes.Failure;
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is JobClientException or HttpRequestException or IOException or JsonException or KeyNotFoundException)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }
            finally
            {
                key.Dispose();
            }
        });
        return command;
    }

    // One line per change: "NODE leaving: 12/40 shards handed over, 28 left, 1 run going".
    private static async Task<string> PrintAsync(CliConsole console, JsonElement node, string? previous)
    {
        var leave = node.GetProperty("leave");
        var line = string.Create(CultureInfo.InvariantCulture, $"{node.GetProperty("id").GetString()} {leave.GetProperty("phase").GetString()}: {leave.GetProperty("shardsMoved").GetInt32()}/{leave.GetProperty("shardsAtStart").GetInt32()} shards handed over, {leave.GetProperty("shardsLeft").GetInt32()} left, {leave.GetProperty("runningJobs").GetInt32()} run(s) going");
        if (line != previous)
        {
            await console.Out.WriteLineAsync(line);
        }

        return line;
    }
}
