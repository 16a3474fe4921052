using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Storage.Policies;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the service library (its grains come with the grains assembly).</summary>
public static class ServiceLibraryServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ServiceLibrary"/>, binds <c>Xmbl:Services</c> and <c>Xmbl:Services:Package</c>, and gives the
    /// library's namespace its policy: owned by the library, readable by everyone, writable by nobody else. Call it after
    /// the object storage is added (its open default policy must be in place first).
    /// </summary>
    public static IServiceCollection AddServiceLibrary(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ServiceLibraryOptions>().Bind(configuration.GetSection(ServiceLibraryOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServiceLibraryOptions>, ServiceLibraryOptionsValidator>();
        services.AddOptions<PackageLimits>().Bind(configuration.GetSection(PackageLimits.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PackageLimits>, PackageLimitsValidator>();
        services.AddOptions<StoragePolicyOptions>().PostConfigure(o =>
        {
            if (!o.Namespaces.Any(n => n.Namespace == ServiceLibrary.Namespace))
            {
                o.Namespaces.Add(NamespacePolicy.MeshGlobal(ServiceLibrary.Namespace, ServiceLibrary.Account, new AccessGrant("*", ObjectOperations.Read | ObjectOperations.List)));
            }
        });
        services.AddSingleton<ServiceLibrary>();

        // Tasks: the options, each silo's verified packages, and the namespaces of the access levels (task-isolated
        // task-ID, service-shared svc-PACKAGEID: owned namespace by namespace by what the pattern's '*' stands for).
        services.AddOptions<TaskOptions>().Bind(configuration.GetSection(TaskOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TaskOptions>, TaskOptionsValidator>();
        services.AddSingleton<ServicePackageCache>();
        services.AddOptions<StoragePolicyOptions>().PostConfigure(o =>
        {
            if (!o.Namespaces.Any(n => n.Namespace == TaskNamespaces.TaskPrefix + "*"))
            {
                o.Namespaces.Add(new NamespacePolicy(TaskNamespaces.TaskPrefix + "*", AccessLevel.TaskIsolated));
            }

            if (!o.Namespaces.Any(n => n.Namespace == TaskNamespaces.ServicePrefix + "*"))
            {
                o.Namespaces.Add(new NamespacePolicy(TaskNamespaces.ServicePrefix + "*", AccessLevel.ServiceShared));
            }
        });
        return services;
    }
}

/// <summary>
/// Checks <see cref="PackageLimits"/> at start: a value out of range is a validation failure (exit code 2 naming the
/// key), not a failed start (exit code 3).
/// </summary>
internal sealed class PackageLimitsValidator : IValidateOptions<PackageLimits>
{
    public ValidateOptionsResult Validate(string? name, PackageLimits options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxPackageBytes <= 0)
        {
            failures.Add($"{PackageLimits.Section}:{nameof(PackageLimits.MaxPackageBytes)} must be positive.");
        }

        if (options.MaxEntries < 2)
        {
            failures.Add($"{PackageLimits.Section}:{nameof(PackageLimits.MaxEntries)} must be at least 2 (the manifest and its signature).");
        }

        if (options.MaxEntryBytes <= 0)
        {
            failures.Add($"{PackageLimits.Section}:{nameof(PackageLimits.MaxEntryBytes)} must be positive.");
        }

        if (options.MaxTotalBytes < options.MaxEntryBytes)
        {
            failures.Add($"{PackageLimits.Section}:{nameof(PackageLimits.MaxTotalBytes)} must be at least {nameof(PackageLimits.MaxEntryBytes)} ({options.MaxEntryBytes}).");
        }

        if (options.MaxCompressionRatio < 1)
        {
            failures.Add($"{PackageLimits.Section}:{nameof(PackageLimits.MaxCompressionRatio)} must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="TaskOptions"/> at start.</summary>
internal sealed class TaskOptionsValidator : IValidateOptions<TaskOptions>
{
    public ValidateOptionsResult Validate(string? name, TaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var section = TaskOptions.SectionName;
        return options switch
        {
            { FitnessTimeout.Ticks: <= 0 } => ValidateOptionsResult.Fail($"{section}:FitnessTimeout must be positive."),
            { DataRetention.Ticks: < 0 } => ValidateOptionsResult.Fail($"{section}:DataRetention cannot be negative."),
            { AckTimeout.Ticks: <= 0 } => ValidateOptionsResult.Fail($"{section}:AckTimeout must be positive."),
            { Deliveries: < 1 } => ValidateOptionsResult.Fail($"{section}:Deliveries must be at least 1."),
            { CachedPackages: < 1 } => ValidateOptionsResult.Fail($"{section}:CachedPackages must be at least 1."),
            { MaxInputBytes: < 1 } => ValidateOptionsResult.Fail($"{section}:MaxInputBytes must be at least 1."),
            { Validators: < 0 or > 2 } => ValidateOptionsResult.Fail($"{section}:Validators must be 0, 1 or 2."),
            _ => ValidateOptionsResult.Success,
        };
    }
}

/// <summary>Checks <see cref="ServiceLibraryOptions"/> at start.</summary>
internal sealed class ServiceLibraryOptionsValidator : IValidateOptions<ServiceLibraryOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceLibraryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.EndorsementsForTrusted < 1)
        {
            return ValidateOptionsResult.Fail($"{ServiceLibraryOptions.SectionName}:EndorsementsForTrusted must be at least 1.");
        }

        if (options.MaxQueryResults < 1)
        {
            return ValidateOptionsResult.Fail($"{ServiceLibraryOptions.SectionName}:MaxQueryResults must be at least 1.");
        }

        foreach (var did in options.TrustedPublishers)
        {
            if (!Xmbl.Cluster.Identity.PublicIdentity.TryParseDid(did, out _))
            {
                return ValidateOptionsResult.Fail($"{ServiceLibraryOptions.SectionName}:TrustedPublishers: '{did}' is not a did:key.");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
