using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Membership;
using Xmbl.Cluster.Runtime.Reminders;
using Xmbl.Cluster.Runtime.Storage;

namespace Xmbl.Cluster.Runtime.Persistence;

/// <summary>One database backend: grain state, membership and reminders over one connection source.</summary>
internal interface IPersistenceBackend : IAsyncDisposable, IDisposable
{
    /// <summary>"Sqlite" or "Postgres".</summary>
    string Name { get; }

    IGrainStateStore States { get; }

    IMembershipTable Membership { get; }

    IReminderTable Reminders { get; }

    /// <summary>Set when a reminder was added or changed (in this process, or anywhere for PostgreSQL once listening).</summary>
    AsyncSignal ReminderChanged { get; }

    /// <summary>Creates the schema; throws <see cref="GrainRuntimeStartupException"/> when the database is unusable.</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>Relays database notifications to <see cref="ReminderChanged"/> until cancelled; returns at once if the backend has none.</summary>
    Task ListenAsync(CancellationToken ct);
}
