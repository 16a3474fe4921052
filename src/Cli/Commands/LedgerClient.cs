using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>The gateway's ledger API as the CLI uses it (amounts in micro-xmbl.c on the wire).</summary>
internal sealed class LedgerClient(HttpClient http, Ed25519KeyPair key) : IDisposable
{
    /// <summary>How often a transfer is sent again after losing a nonce race with another client of the same wallet.</summary>
    private const int NonceAttempts = 3;

    public static LedgerClient Create(Uri gateway, Ed25519KeyPair key) => new(Wallets.Client(gateway, key), key);

    public string Account => key.PublicKey.Did;

    public async Task<JsonElement> GetAccountAsync(CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri("/api/accounts/" + Account, UriKind.Relative), ct);
        return await ReadAsync(response, ct);
    }

    /// <summary>Sends a transfer with the account's next nonce (taking a fresh one if another client used it first).</summary>
    public async Task<JsonElement> TransferAsync(string to, long amount, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var nonce = (await GetAccountAsync(ct)).GetProperty("nextNonce").GetInt64();
            using var response = await http.PostAsJsonAsync(new Uri("/api/transfers", UriKind.Relative), new { to, amount, nonce }, ct);
            if (response.StatusCode == HttpStatusCode.Conflict && attempt < NonceAttempts)
            {
                continue;
            }

            return await ReadAsync(response, ct);
        }
    }

    public async Task<JsonElement> FaucetAsync(long amount, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri("/api/faucet", UriKind.Relative), new { amount }, ct);
        return await ReadAsync(response, ct);
    }

    public async Task<JsonElement> HistoryAsync(string? after, CancellationToken ct)
    {
        var query = after is null ? "?limit=1000" : "?limit=1000&after=" + Uri.EscapeDataString(after);
        using var response = await http.GetAsync(new Uri($"/api/accounts/{Account}/history{query}", UriKind.Relative), ct);
        return await ReadAsync(response, ct);
    }

    /// <summary>The inclusion proof of the account's balance in the last sealed epoch.</summary>
    public async Task<JsonElement> ProofAsync(CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri($"/api/accounts/{Account}/proof", UriKind.Relative), ct);
        return await ReadAsync(response, ct);
    }

    /// <summary>The root of epoch <paramref name="number"/> as the epoch list gives it.</summary>
    public async Task<string> EpochRootAsync(long number, CancellationToken ct)
    {
        var after = (number - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var response = await http.GetAsync(new Uri($"/api/ledger/epochs?after={after}&limit=1", UriKind.Relative), ct);
        var page = await ReadAsync(response, ct);
        foreach (var epoch in page.GetProperty("items").EnumerateArray())
        {
            if (epoch.GetProperty("number").GetInt64() == number)
            {
                return epoch.GetProperty("root").GetString() ?? "";
            }
        }

        throw new JobClientException($"the gateway lists no epoch {number}.");
    }

    public void Dispose()
    {
        http.Dispose();
        key.Dispose();
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode)
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        throw new JobClientException(ProblemText.Describe(response.StatusCode, text));
    }
}
