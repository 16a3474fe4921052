using Xmbl.Cluster.Grains.Jobs.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Hosting;

/// <summary>Registers the compute grains with the grain runtime.</summary>
public static class ComputeGrainRuntimeBuilderExtensions
{
    /// <summary>Adds the job, module, node-reputation and output-name grains.</summary>
    /// <param name="runtime">The grain runtime builder.</param>
    /// <returns>The builder.</returns>
    public static IGrainRuntimeBuilder AddComputeGrains(this IGrainRuntimeBuilder runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        runtime.AddGrain<IJobGrain, JobGrain>();
        runtime.AddGrain<IModuleGrain, ModuleGrain>();
        runtime.AddGrain<INodeReputationGrain, NodeReputationGrain>();
        runtime.AddGrain<IOutputNameGrain, OutputNameGrain>();
        return runtime;
    }
}
