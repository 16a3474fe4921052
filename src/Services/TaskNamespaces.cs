using System.Security.Cryptography;
using System.Text;

namespace Xmbl.Cluster.Services;

/// <summary>
/// The storage namespaces of the access levels a task reaches through the storage proxy: its own task-isolated
/// namespace (<c>task-ID</c>) and its service's shared one (<c>svc-PACKAGEID</c>); mesh-global namespaces only when the
/// submitter grants them.
/// </summary>
public static class TaskNamespaces
{
    /// <summary>The prefix of task-isolated namespaces.</summary>
    public const string TaskPrefix = "task-";

    /// <summary>The prefix of service-shared namespaces.</summary>
    public const string ServicePrefix = "svc-";

    private const int MaxNamespaceLength = 63;

    /// <summary>The task-isolated namespace of a task.</summary>
    /// <param name="taskId">The task id.</param>
    /// <returns>The namespace.</returns>
    public static string Task(string taskId) => TaskPrefix + taskId;

    /// <summary>The service-shared namespace of a package (every version shares it).</summary>
    /// <param name="packageId">The package id.</param>
    /// <returns>The namespace.</returns>
    public static string Service(string packageId) => ServicePrefix + ServiceOwner(packageId);

    /// <summary>
    /// The owner part of a service's namespace: the package id, or for ids too long for a namespace the first 40
    /// characters and 16 hex digits of the id's SHA-256 (so two long ids never share data).
    /// </summary>
    /// <param name="packageId">The package id.</param>
    /// <returns>The owner.</returns>
    public static string ServiceOwner(string packageId)
    {
        ArgumentNullException.ThrowIfNull(packageId);
        if (ServicePrefix.Length + packageId.Length <= MaxNamespaceLength)
        {
            return packageId;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(packageId)))[..16];
        return packageId[..40].TrimEnd('.', '-', '_') + "-" + hash;
    }
}
