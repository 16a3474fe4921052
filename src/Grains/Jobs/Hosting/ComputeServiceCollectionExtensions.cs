using Xmbl.Cluster.Persistence.Sql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Grains.Jobs.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers compute: module store, scheduler, an executor per local node, reputation and the job service.</summary>
public static class ComputeServiceCollectionExtensions
{
    /// <summary>Adds compute to a silo (call after <c>AddSilo</c>, whose node registry it uses).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration; <c>Xmbl:Compute</c> binds <see cref="ComputeOptions"/>.</param>
    /// <param name="silo">What <c>AddSilo</c> decided (data directory, embedded or cluster).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompute(this IServiceCollection services, IConfiguration configuration, SiloSetup silo)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(silo);
        services.AddOptions<ComputeOptions>().Bind(configuration.GetSection(ComputeOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ComputeOptions>, ComputeOptionsValidator>();
        services.AddSingleton(new ComputeMode(silo.DataDirectory));

        // One engine per silo: a module compiles once and every local node's executor shares the compiled code.
        services.TryAddSingleton<IWasmEngine>(sp => ComputeEngines.Create(sp.GetRequiredService<IOptions<ComputeOptions>>().Value.Engine, silo.DataDirectory));
        services.AddSingleton(sp => new ModuleStore(
            sp.GetRequiredService<IWasmEngine>(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<ComputeOptions>>(),
            sp.GetRequiredKeyedService<TimeProvider>(Xmbl.Cluster.ClusterClock.Key),
            Path.Combine(silo.DataDirectory, "modules"),
            sp.GetRequiredService<IOptions<ComputeOptions>>().Value.ModulesInDatabase ?? !silo.Embedded));

        services.AddSingleton(sp => new JobObjects(
            sp.GetService<ObjectService>(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<ComputeOptions>>(),
            sp.GetRequiredKeyedService<TimeProvider>(Xmbl.Cluster.ClusterClock.Key)));
        services.AddSingleton<ReputationDirectory>();
        services.AddSingleton<JobScheduler>();
        services.AddSingleton<IJobPlacement>(sp => sp.GetRequiredService<JobScheduler>());
        services.AddSingleton<ReputationRecorder>();
        services.AddSingleton<IJobRunner, WasmJobRunner>();
        services.AddSingleton<JobExecutorHost>();
        services.AddSingleton<INodeLoadReporter>(sp => sp.GetRequiredService<JobExecutorHost>());
        services.AddSingleton<ISiloHealthReporter>(sp => sp.GetRequiredService<JobExecutorHost>());
        services.AddSingleton<JobDispatcher>();
        services.AddSingleton<EdgeNodes>();
        services.AddSingleton<JobDeadlineTicker>();
        services.AddSingleton<JobSweeper>();
        services.AddSingleton<IJobEffects, JobEffects>();
        services.TryAddSingleton<IJobSettlement, LedgerSettlement>();
        services.AddSingleton(sp => new JobService(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IGrainStateQuery>(),
            sp.GetRequiredService<ModuleStore>(),
            sp.GetRequiredService<JobObjects>(),
            sp.GetRequiredKeyedService<TimeProvider>(Xmbl.Cluster.ClusterClock.Key),
            sp.GetRequiredService<IOptions<ComputeOptions>>(),
            LargestNodeMemory(sp.GetRequiredService<JobScheduler>())));

        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<JobScheduler>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ReputationRecorder>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<JobExecutorHost>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<JobDeadlineTicker>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<JobSweeper>());
        return services;
    }

    private static Func<CancellationToken, ValueTask<long?>> LargestNodeMemory(JobScheduler scheduler) =>
        _ => ValueTask.FromResult(scheduler.LargestNodeMemory());
}
