using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Ledger;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>Sealed epochs for the gateway: the list of roots, and inclusion proofs against the last one (from stored state).</summary>
public sealed class LedgerEpochs(IGrainStateQuery query)
{
    private readonly SemaphoreSlim _load = new(1, 1);
    private (long Number, BalanceTree Tree)? _cached;

    /// <summary>Sealed epochs after <paramref name="afterNumber"/>, oldest first.</summary>
    /// <returns>The epochs and the cursor of the next page (null at the end).</returns>
    public async Task<(IReadOnlyList<LedgerEpoch> Items, long? Next)> ListAsync(long afterNumber, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterNumber);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var page = await query.ListAsync<LedgerEpochState>(GrainStates.LedgerEpoch, null, LedgerEpochsGrain.EpochKey(afterNumber), limit + 1, ct);
        var items = new List<LedgerEpoch>(Math.Min(limit, page.Count));
        foreach (var entry in page)
        {
            if (items.Count < limit && entry.State.Epoch is { } epoch)
            {
                items.Add(epoch);
            }
        }

        return (items, page.Count > limit && items.Count > 0 ? items[^1].Number : null);
    }

    /// <summary>The last sealed epoch, or null before the first.</summary>
    public async Task<LedgerEpoch?> LatestAsync(CancellationToken ct = default) =>
        (await query.GetAsync<LedgerEpochsState>(GrainStates.LedgerEpochs, ILedgerEpochsGrain.Key, ct))?.State.Last;

    /// <summary>
    /// The inclusion proof of <paramref name="account"/>'s balance in the last sealed epoch; null when no epoch is
    /// sealed, or the account was not in it (it had no stored state then).
    /// </summary>
    public async Task<(LedgerEpoch Epoch, BalanceProof Proof)?> ProveAsync(string account, CancellationToken ct = default)
    {
        if (await LatestAsync(ct) is not { } epoch)
        {
            return null;
        }

        var tree = await TreeAsync(epoch.Number, ct);
        return tree.Leaves.Count > 0 && Contains(tree, account) ? (epoch, tree.Prove(account)) : null;
    }

    private static bool Contains(BalanceTree tree, string account)
    {
        // The leaves are sorted by ordinal order of the account.
        var leaves = tree.Leaves;
        int lo = 0, hi = leaves.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = string.CompareOrdinal(leaves[mid].Account, account);
            if (c == 0)
            {
                return true;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return false;
    }

    /// <summary>The tree of one epoch, built once from its stored balances and kept until a later epoch is asked for.</summary>
    private async Task<BalanceTree> TreeAsync(long number, CancellationToken ct)
    {
        if (_cached is { } cached && cached.Number == number)
        {
            return cached.Tree;
        }

        await _load.WaitAsync(ct);
        try
        {
            if (_cached is { } again && again.Number == number)
            {
                return again.Tree;
            }

            var stored = await query.GetAsync<LedgerEpochBalancesState>(GrainStates.LedgerEpochBalances, LedgerEpochsGrain.EpochKey(number), ct)
                ?? throw new InvalidOperationException($"The balances of ledger epoch {number} are missing although it was sealed.");
            var tree = BalanceTree.Build(stored.State.Balances.Select(b => new BalanceLeaf(b.Account, b.Balance)));
            _cached = (number, tree);
            return tree;
        }
        finally
        {
            _load.Release();
        }
    }
}

/// <summary>Registers the epoch reminder when the silo starts (retried until the grain answers).</summary>
internal sealed partial class LedgerEpochStarter(IGrainFactory grains, ILogger<LedgerEpochStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<ILedgerEpochsGrain>(ILedgerEpochsGrain.Key).StartAsync();
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
            {
                LogStartFailed(logger, ex, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "Registering the ledger epoch reminder failed (attempt {Attempt}); retrying")]
    private static partial void LogStartFailed(ILogger logger, Exception ex, int attempt);
}
