using System.Globalization;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Settlement without a ledger: the job keeps the price it would charge; no credits move.</summary>
internal sealed class RecordedSettlement : IJobSettlement
{
    public Task<string> SettleAsync(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var price = (job.Price ?? 0m).ToString(CultureInfo.InvariantCulture);
        return Task.FromResult($"charge of {price} xmbl.c recorded for {job.Result?.NodeId} (no ledger configured)");
    }
}
