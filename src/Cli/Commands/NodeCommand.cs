using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl node …</c>: an operator's controls for the nodes they run.</summary>
internal static class NodeCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("node", "Control the nodes you operate (sign with the silo's operator key: --wallet DATA/operator.key).");
        command.Subcommands.Add(Set(console));
        command.Subcommands.Add(NodeLeaveCommand.Create(console));
        return command;
    }

    /// <summary><c>xmbl node set NODE --cores N --memory SIZE --concurrency N --price X --storage-price X</c>.</summary>
    private static Command Set(CliConsole console)
    {
        var node = new Argument<string>("NODE") { Description = "The node's id (did:key:z6Mk…), as GET /api/cluster lists it." };
        var cores = new Option<int?>("--cores") { Description = "Cores the node offers (1-1024); the concurrency follows unless --concurrency is given." };
        var memory = new Option<string?>("--memory") { Description = "Memory the node offers for jobs: 512MiB, 8GB, … (1MiB-1PiB)." };
        var concurrency = new Option<int?>("--concurrency") { Description = "Jobs the node runs at once (1-1024)." };
        var price = new Option<decimal?>("--price") { Description = "Price per million fuel units, in xmbl.c (at most 6 decimals)." };
        var storagePrice = new Option<decimal?>("--storage-price") { Description = "Price per GB-month stored, in xmbl.c (at most 6 decimals)." };
        var command = new Command("set", "Change a running node's resources and prices (operator only). The cluster and its scheduler use them at once; they outlive restarts.")
        {
            node, cores, memory, concurrency, price, storagePrice,
        };
        command.SetAction(async (parse, ct) =>
        {
            var body = new JsonObject();
            if (parse.GetValue(cores) is { } c)
            {
                body["cores"] = c;
            }

            if (parse.GetValue(memory) is { } m)
            {
                body["memory"] = m;
            }

            if (parse.GetValue(concurrency) is { } j)
            {
                body["concurrency"] = j;
            }

            if (parse.GetValue(price) is { } p)
            {
                body["pricePerMillionFuel"] = p;
            }

            if (parse.GetValue(storagePrice) is { } s)
            {
                body["pricePerGbMonth"] = s;
            }

            if (body.Count == 0)
            {
                await console.Error.WriteLineAsync("error: give at least one of --cores, --memory, --concurrency, --price, --storage-price.");
                return CliExitCodes.Usage;
            }

            Ed25519KeyPair key;
            try
            {
                key = await Wallets.OpenOrCreateAsync(parse, console);
            }
            catch (IOException ex)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }

            using (key)
            using (var http = Wallets.Client(GlobalOptions.GetGateway(parse), key))
            {
                try
                {
                    var id = parse.GetValue(node)!;
                    using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri("/api/nodes/" + Uri.EscapeDataString(id), UriKind.Relative))
                    {
                        Content = JsonContent.Create(body),
                    };
                    using var response = await http.SendAsync(request, ct);
                    var text = await response.Content.ReadAsStringAsync(ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        await console.Error.WriteLineAsync("error: " + ProblemText.Describe(response.StatusCode, text));
                        return CliExitCodes.Failure;
                    }

                    var set = JsonDocument.Parse(text).RootElement;
                    var line = string.Create(
                        CultureInfo.InvariantCulture,
                        $"{set.GetProperty("id").GetString()}: {set.GetProperty("cores").GetInt32()} cores, {set.GetProperty("memoryBytes").GetInt64()} bytes of memory, {set.GetProperty("concurrency").GetInt32()} job(s) at once, {set.GetProperty("pricePerMillionFuel").GetDecimal()} xmbl.c per million fuel, {set.GetProperty("pricePerGbMonth").GetDecimal()} xmbl.c per GB-month");
                    await console.Out.WriteLineAsync(line);
                    if (!set.GetProperty("applied").GetBoolean())
                    {
                        await console.Error.WriteLineAsync("xmbl: the node's silo is not running; the node takes these settings when it starts");
                    }

                    return CliExitCodes.Success;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
                {
                    await console.Error.WriteLineAsync("error: " + ex.Message);
                    return CliExitCodes.Failure;
                }
            }
        });
        return command;
    }
}
