using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Charges a validated job; the ledger replaces the default, which only records the charge.</summary>
public interface IJobSettlement
{
    /// <summary>Charges the job's price and pays its nodes.</summary>
    /// <param name="job">The validated job (its <see cref="JobRecord.Price"/> and assignments).</param>
    /// <returns>What was done, for the job's transition log.</returns>
    Task<string> SettleAsync(JobRecord job);
}
