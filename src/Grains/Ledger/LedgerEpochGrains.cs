using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Ledger;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>The last sealed epoch (<see cref="GrainStates.LedgerEpochs"/>).</summary>
public sealed class LedgerEpochsState
{
    /// <summary>The last sealed epoch, or null before the first.</summary>
    public LedgerEpoch? Last { get; set; }
}

/// <summary>One epoch's record (<see cref="GrainStates.LedgerEpoch"/>).</summary>
public sealed class LedgerEpochState
{
    /// <summary>The epoch.</summary>
    public LedgerEpoch? Epoch { get; set; }
}

/// <summary>The balances of one epoch (<see cref="GrainStates.LedgerEpochBalances"/>), in the tree's canonical order.</summary>
public sealed class LedgerEpochBalancesState
{
    /// <summary>The leaves.</summary>
    public List<EpochBalance> Balances { get; set; } = [];
}

/// <summary>Seals epochs; see <see cref="ILedgerEpochsGrain"/>.</summary>
/// <remarks>
/// The balances are each account's last stored state, read one page after another: an epoch is a snapshot per
/// account, not one instant of the whole ledger (no account waits for it). Credits in flight between two accounts
/// (debited, not yet credited) are in neither leaf; <see cref="LedgerEpoch.Total"/> is therefore at most the supply.
/// </remarks>
internal sealed partial class LedgerEpochsGrain(
    [PersistentState(GrainStates.LedgerEpochs, GrainStates.Storage)] IPersistentState<LedgerEpochsState> state,
    IGrainStateQuery query,
    IOptions<LedgerOptions> options,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    ILogger<LedgerEpochsGrain> logger)
    : DurableGrain<LedgerEpochsState>(state), ILedgerEpochsGrain, IRemindable
{
    /// <summary>The reminder that seals epochs: it ticks at least every minute (the shortest Orleans reminder) and seals when one is due.</summary>
    public const string ReminderName = "ledger-epoch";

    private const int Page = 1000;

    /// <summary>The reminder's period: a quarter of the interval, from 1 to 10 minutes.</summary>
    private TimeSpan Period => TimeSpan.FromTicks(Math.Clamp(options.Value.EpochInterval.Ticks / 4, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromMinutes(10).Ticks));

    public async Task StartAsync()
    {
        // Ticks often enough to seal close to the interval; each tick seals only when one is due (on the cluster clock).
        await this.RegisterOrUpdateReminder(ReminderName, Period, Period);
    }

    /// <remarks>Due half a period early: a tick landing a moment before the interval would otherwise wait a whole period more.</remarks>
    public async Task<LedgerEpoch?> SealIfDueAsync() =>
        State.Last is { } last && time.GetUtcNow() - last.SealedAt + (Period / 2) < options.Value.EpochInterval ? null : await SealAsync();

    public async Task<LedgerEpoch> SealAsync()
    {
        var balances = new List<BalanceLeaf>();
        string? after = null;
        while (true)
        {
            var page = await query.ListAsync<AccountGrainState>(GrainStates.Account, null, after, Page);
            foreach (var entry in page)
            {
                balances.Add(new BalanceLeaf(entry.Key, entry.State.Balance));
            }

            if (page.Count < Page)
            {
                break;
            }

            after = page[^1].Key;
        }

        var tree = BalanceTree.Build(balances);
        long total = 0;
        foreach (var leaf in tree.Leaves)
        {
            total = checked(total + leaf.Balance);
        }

        var epoch = new LedgerEpoch((State.Last?.Number ?? 0) + 1, tree.RootHex, tree.Count, total, time.GetUtcNow());
        var leaves = new List<EpochBalance>(tree.Count);
        foreach (var leaf in tree.Leaves)
        {
            leaves.Add(new EpochBalance(leaf.Account, leaf.Balance));
        }

        await GrainFactory.GetGrain<ILedgerEpochGrain>(EpochKey(epoch.Number)).StoreAsync(epoch, leaves);
        State.Last = epoch;
        LogSealed(logger, epoch.Number, epoch.Accounts, epoch.Root);
        return epoch;
    }

    public Task<LedgerEpoch?> LatestAsync() => Task.FromResult(State.Last);

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }

        try
        {
            await SealIfDueAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next tick tries again.
            LogSealFailed(logger, ex);
        }
    }

    /// <summary>The key of an epoch's grain: its number as 12 digits, so keys sort as numbers.</summary>
    public static string EpochKey(long number) => number.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Ledger epoch {Number} sealed over {Accounts} account(s): root {Root}")]
    private static partial void LogSealed(ILogger logger, long number, long accounts, string root);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Sealing a ledger epoch failed; the next reminder tick retries")]
    private static partial void LogSealFailed(ILogger logger, Exception ex);
}

/// <summary>One epoch's record and balances; see <see cref="ILedgerEpochGrain"/>.</summary>
internal sealed class LedgerEpochGrain(
    [PersistentState(GrainStates.LedgerEpoch, GrainStates.Storage)] IPersistentState<LedgerEpochState> epoch,
    [PersistentState(GrainStates.LedgerEpochBalances, GrainStates.Storage)] IPersistentState<LedgerEpochBalancesState> balances)
    : Grain, ILedgerEpochGrain
{
    public async Task StoreAsync(LedgerEpoch sealedEpoch, IReadOnlyList<EpochBalance> leaves)
    {
        ArgumentNullException.ThrowIfNull(sealedEpoch);
        ArgumentNullException.ThrowIfNull(leaves);

        // The balances first: a listed epoch always has the balances its proofs need.
        balances.State.Balances = [.. leaves];
        await balances.WriteStateAsync();
        epoch.State.Epoch = sealedEpoch;
        await epoch.WriteStateAsync();
        DeactivateOnIdle();
    }
}
