namespace Xmbl.Cluster.Runtime.Membership;

/// <summary>The membership contract every backend implements; the conformance tests run against each.</summary>
internal interface IMembershipTable
{
    /// <summary>Adds a silo row (or replaces a row with the same id that is not dead).</summary>
    Task JoinAsync(SiloEntry entry, CancellationToken ct);

    /// <summary>Records a heartbeat; returns the silo's status after it (Dead if it was declared dead, null if it has no row).</summary>
    Task<SiloStatus?> HeartbeatAsync(string siloId, DateTimeOffset now, CancellationToken ct);

    /// <summary>Changes a silo's status; a dead silo stays dead.</summary>
    Task SetStatusAsync(string siloId, SiloStatus status, DateTimeOffset now, CancellationToken ct);

    /// <summary>Marks every not-yet-dead silo whose last heartbeat is before <paramref name="heartbeatBefore"/> as dead.</summary>
    /// <returns>The ids of the silos marked dead by this call.</returns>
    Task<IReadOnlyList<string>> MarkDeadAsync(DateTimeOffset heartbeatBefore, CancellationToken ct);

    /// <summary>All rows, ordered by start time.</summary>
    Task<IReadOnlyList<SiloEntry>> ListAsync(CancellationToken ct);
}
