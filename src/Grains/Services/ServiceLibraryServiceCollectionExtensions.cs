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
        services.AddOptions<PackageLimits>().Bind(configuration.GetSection(PackageLimits.Section)).Validate(l =>
        {
            l.Validate();
            return true;
        }).ValidateOnStart();
        services.AddOptions<StoragePolicyOptions>().PostConfigure(o =>
        {
            if (!o.Namespaces.Any(n => n.Namespace == ServiceLibrary.Namespace))
            {
                o.Namespaces.Add(NamespacePolicy.MeshGlobal(ServiceLibrary.Namespace, ServiceLibrary.Account, new AccessGrant("*", ObjectOperations.Read | ObjectOperations.List)));
            }
        });
        services.AddSingleton<ServiceLibrary>();
        return services;
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
