using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the ledger's services (its grains come with the grains assembly).</summary>
public static class LedgerServiceCollectionExtensions
{
    /// <summary>Adds <see cref="LedgerService"/> and binds <c>Xmbl:Ledger</c> (<see cref="LedgerOptions"/>), checked at start.</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration configuration, SiloSetup silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        services.AddLedger(configuration, silo.Embedded);
        services.AddHostedService<LedgerEpochStarter>();
        services.TryAddSingleton<IStorageChargeSender, AccountStorageChargeSender>();
        services.AddHostedService<StorageChargesStarter>();
        return services;
    }

    /// <summary>Adds the ledger to a process that is not a silo, such as a standalone gateway (always cluster mode there).</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration configuration, bool embedded)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LedgerOptions>().Bind(configuration.GetSection(LedgerOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LedgerOptions>, LedgerOptionsValidator>();
        services.AddSingleton(new LedgerMode(embedded));
        services.AddSingleton<LedgerService>();
        services.AddSingleton<LedgerEpochs>();
        return services;
    }
}
