namespace Xmbl.Cluster.Runtime;

/// <summary>The silos of the cluster as recorded in the membership table.</summary>
public interface IClusterMembership
{
    /// <summary>This process's silo id.</summary>
    string LocalSiloId { get; }

    /// <summary>Reads all silos the table knows, including dead ones.</summary>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The silos ordered by start time.</returns>
    Task<IReadOnlyList<SiloEntry>> GetSilosAsync(CancellationToken ct = default);
}
