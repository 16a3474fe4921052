using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>The ledger's operations for the gateway: transfers, mints, the faucet, balances and histories.</summary>
/// <remarks>Who may act is the caller's business (the gateway checks signatures); this checks what the ledger's rules are.</remarks>
public sealed partial class LedgerService
{
    private readonly IGrainFactory _grains;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly LedgerOptions _options;

    /// <summary>Creates the service.</summary>
    /// <param name="grains">The grain factory.</param>
    /// <param name="query">Reads stored histories.</param>
    /// <param name="time">The cluster clock.</param>
    /// <param name="options">The ledger options.</param>
    /// <param name="mode">Whether the silo runs embedded (the faucet's default).</param>
    public LedgerService(IGrainFactory grains, IGrainStateQuery query, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, IOptions<LedgerOptions> options, LedgerMode mode)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(mode);
        _grains = grains;
        _query = query;
        _time = time;
        _options = options.Value;
        FaucetEnabled = _options.Faucet.Enabled ?? mode.Embedded;
    }

    /// <summary>The treasury's did:key, or null when nobody mints.</summary>
    public string? Treasury => _options.Treasury;

    /// <summary>Whether the faucet gives credits.</summary>
    public bool FaucetEnabled { get; }

    /// <summary>The faucet's limits.</summary>
    public FaucetLimits FaucetLimits => _options.Faucet.Limits;

    /// <summary>Moves credits between two accounts (the caller checked that <paramref name="from"/> signed it).</summary>
    public Task<LedgerOutcome> TransferAsync(string from, string to, long amount, long nonce) =>
        Account(from).TransferAsync(new TransferOrder(to, amount, nonce, _time.GetUtcNow()));

    /// <summary>Mints into the treasury's account (the caller checked that the treasury signed it).</summary>
    public Task<LedgerOutcome> MintAsync(long amount, long nonce) =>
        Account(_options.Treasury ?? throw new InvalidOperationException("No treasury is configured (" + LedgerOptions.SectionName + ":Treasury).")).MintAsync(amount, nonce, _time.GetUtcNow());

    /// <summary>Gives faucet credits to <paramref name="account"/>, within the limits.</summary>
    public Task<LedgerOutcome> FaucetAsync(string account, long amount) =>
        FaucetEnabled
            ? Account(account).FaucetAsync(amount, FaucetLimits, _time.GetUtcNow())
            : throw new InvalidOperationException("The faucet is off (" + LedgerOptions.SectionName + ":Faucet:Enabled).");

    /// <summary>The account's balance and counters (an account never used has a zero balance).</summary>
    public Task<AccountSnapshot> GetAsync(string account) => Account(account).GetAsync();

    /// <summary>Entries of the account's history after <paramref name="afterSeq"/>, oldest first, from stored state.</summary>
    /// <param name="account">The account.</param>
    /// <param name="afterSeq">The last entry of the previous page (0 to start).</param>
    /// <param name="limit">The most entries.</param>
    /// <param name="ct">Cancels the reads.</param>
    /// <returns>The entries and the cursor of the next page (null at the end).</returns>
    public async Task<(IReadOnlyList<LedgerEntry> Items, long? Next)> HistoryAsync(string account, long afterSeq, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterSeq);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (await _query.GetAsync<AccountGrainState>(GrainStates.Account, account, ct) is not { } stored)
        {
            return ([], null);
        }

        var state = stored.State;
        var items = new List<LedgerEntry>(Math.Min(limit, 1000));
        var seq = afterSeq + 1;
        var recentFirst = state.Recent.Count > 0 ? state.Recent[0].Seq : state.HistoryCount + 1;
        while (items.Count < limit && seq <= state.HistoryCount)
        {
            if (seq >= recentFirst)
            {
                var recent = state.Recent[(int)(seq - recentFirst)];
                items.Add(recent);
                seq++;
                continue;
            }

            var page = (seq - 1) / AccountGrain.HistoryPageSize;
            var sealedPage = await _query.GetAsync<AccountHistoryPageState>(GrainStates.AccountHistory, AccountGrain.PageKey(account, page), ct)
                ?? throw new InvalidOperationException($"History page {page} of {account} is missing although the account sealed it.");
            foreach (var entry in sealedPage.State.Entries)
            {
                // Entries from the first kept one on are read from the account (a page may hold them too, until the account's next write).
                if (entry.Seq >= seq && entry.Seq < recentFirst && items.Count < limit)
                {
                    items.Add(entry);
                }
            }

            // A page is filled in chunks: the entries after a partly filled page are the account's kept ones.
            seq = Math.Min(((page + 1) * AccountGrain.HistoryPageSize) + 1, recentFirst);
        }

        var last = items.Count > 0 ? items[^1].Seq : afterSeq;
        return (items, last < state.HistoryCount ? last : null);
    }

    private IAccountGrain Account(string account) => _grains.GetGrain<IAccountGrain>(account);
}

/// <summary>How the silo runs, as the ledger needs it.</summary>
/// <param name="Embedded">True in embedded mode (the faucet is on unless configured off).</param>
public sealed record LedgerMode(bool Embedded);
