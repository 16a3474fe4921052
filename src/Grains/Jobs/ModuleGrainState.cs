using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Persistent state of a <see cref="ModuleGrain"/>.</summary>
internal sealed class ModuleGrainState
{
    public ModuleInfo? Info { get; set; }

    /// <summary>The module's bytes when they are kept in the database (cluster mode).</summary>
    public byte[]? Bytes { get; set; }
}
