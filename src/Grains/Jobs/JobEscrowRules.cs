using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>What a job holds at submission and whom it pays when final (docs/jobs.md, "Escrow").</summary>
internal static class JobEscrowRules
{
    /// <summary>
    /// The hold: (1 + validators) runs of the whole fuel limit at the maximum price. The accepted majority never has
    /// more nodes than that (a tie-breaker is needed only when a node disagrees, and the minority is not paid).
    /// </summary>
    public static long Hold(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var price = spec.MaxPricePerMillionFuel ?? throw new ArgumentException("The spec's maximum price is set before the hold.", nameof(spec));
        return Micro((1 + spec.Validators) * Math.Max(0, spec.Limits.Fuel), price);
    }

    /// <summary>A run's price in micro-xmbl.c: fuel × price per million fuel (xmbl.c) / 10^6 × 10^6, rounded down.</summary>
    public static long Cost(long fuel, decimal pricePerMillionFuel) => Micro(Math.Max(0, fuel), pricePerMillionFuel);

    /// <summary>Who is paid for a node's run: its operator when that is an account (did:key), else the node's own identity.</summary>
    public static string Payee(string nodeId, string nodeOperator) =>
        PublicIdentity.TryParseDid(nodeOperator, out var account) ? account!.Did : nodeId;

    /// <summary>
    /// The payouts of a final job, never more than <paramref name="hold"/> in all. Settled: each node whose result is
    /// the accepted one, then each run cut off at the wall-clock limit (it reported its fuel), while the hold lasts.
    /// Cancelled: each node that had reported a result. Failed: nobody (nothing shows a node was not at fault).
    /// Disagreeing, silent and failing nodes are never paid.
    /// </summary>
    public static List<EscrowPayout> Payouts(JobGrainState state, long hold)
    {
        ArgumentNullException.ThrowIfNull(state);
        var payouts = new List<EscrowPayout>();
        var left = hold;
        void Pay(AssignmentState a)
        {
            var amount = Math.Min(left, Cost(a.Fuel ?? 0, a.PricePerMillionFuel));
            if (amount > 0)
            {
                payouts.Add(new EscrowPayout(Payee(a.NodeId, a.Operator), amount, a.NodeId, a.Id));
                left -= amount;
            }
        }

        switch (state.Status)
        {
            case JobStatus.Validated or JobStatus.Settled when state.Result is { } result:
                foreach (var a in state.Assignments)
                {
                    if (a.Status == AssignmentStatus.Reported && string.Equals(a.ResultHash, result.ResultHash, StringComparison.Ordinal))
                    {
                        Pay(a);
                    }
                }

                foreach (var a in state.Assignments)
                {
                    if (a.Status == AssignmentStatus.TimedOut && a.ReportedAt is not null)
                    {
                        Pay(a);
                    }
                }

                break;
            case JobStatus.Cancelled:
                foreach (var a in state.Assignments)
                {
                    if (a.Status == AssignmentStatus.Reported)
                    {
                        Pay(a);
                    }
                }

                break;
        }

        return payouts;
    }

    /// <summary>fuel × price, rounded down, at most <see cref="long.MaxValue"/> (what no account can hold).</summary>
    private static long Micro(decimal fuel, decimal price)
    {
        if (price <= 0)
        {
            return 0;
        }

        try
        {
            var micro = fuel * price;
            return micro >= long.MaxValue ? long.MaxValue : (long)decimal.Floor(micro);
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }
}
