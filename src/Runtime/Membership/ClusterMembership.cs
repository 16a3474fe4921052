using Microsoft.Extensions.Options;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Membership;

/// <summary>Reads the membership table for APIs and dashboards.</summary>
internal sealed class ClusterMembership(IPersistenceBackend backend, GrainRuntime runtime, IOptions<SiloOptions> options) : IClusterMembership
{
    public string LocalSiloId { get; } = options.Value.SiloId;

    public async Task<IReadOnlyList<SiloEntry>> GetSilosAsync(CancellationToken ct = default)
    {
        await runtime.EnsureInitializedAsync(ct).ConfigureAwait(false);
        return await backend.Membership.ListAsync(ct).ConfigureAwait(false);
    }
}
