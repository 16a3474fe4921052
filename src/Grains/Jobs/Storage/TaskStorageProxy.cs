using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Grains.Jobs.Storage;

/// <summary>
/// The storage capability of one task run (<c>xmbl.storage_read</c> / <c>xmbl.storage_write</c>): the task reaches its
/// own task-isolated namespace, its service's shared namespace, and the mesh-global namespaces its submitter granted,
/// each also under that namespace's policy, and nothing else. Writes are held in the run and become part of its output
/// bundle, so validators must make the same writes; they are stored only after validation.
/// </summary>
internal sealed class TaskStorageProxy(ObjectService objects, TaskRun task, string submitter, long maxWriteBytes)
{
    private readonly Dictionary<string, byte[]> _writes = new(StringComparer.Ordinal);
    private long _written;

    /// <summary>The writes the run made, by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, byte[]> Writes => _writes;

    /// <summary>The principal a task acts as in each namespace.</summary>
    public static StoragePrincipal PrincipalOf(TaskRun task, string submitter) =>
        new(submitter) { TaskId = task.TaskId, ServiceId = TaskNamespaces.ServiceOwner(task.PackageId) };

    /// <summary>Whether a task may perform <paramref name="operation"/> on <paramref name="key"/>.</summary>
    public static bool MayReach(ObjectService objects, TaskRun task, string submitter, ObjectKey key, ObjectOperations operation)
    {
        if (key.Namespace != TaskNamespaces.Task(task.TaskId)
            && key.Namespace != TaskNamespaces.Service(task.PackageId)
            && !task.GlobalNamespaces.Contains(key.Namespace, StringComparer.Ordinal))
        {
            return false;
        }

        try
        {
            objects.Authorize(key.Namespace, key.Name, PrincipalOf(task, submitter), operation);
            return true;
        }
        catch (ObjectPolicyException)
        {
            return false;
        }
    }

    /// <summary>The object's bytes (this run's own write first), or null when it is missing or out of reach.</summary>
    public byte[]? Read(string address)
    {
        if (!TryKey(Resolve(address), out var key) || !MayReach(objects, task, submitter, key, ObjectOperations.Read))
        {
            return null;
        }

        if (_writes.TryGetValue(key.GrainKey, out var written))
        {
            return written;
        }

        // Host functions are synchronous; the run is on its own guest thread.
        var stored = objects.GetAsync(key).GetAwaiter().GetResult();
        if (stored is null || stored.Manifest.Size > maxWriteBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream((int)stored.Manifest.Size);
        objects.ReadAsync(stored, buffer, 0, null, CancellationToken.None).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    /// <summary>Holds a write for after validation; false when out of reach or over the run's write budget.</summary>
    public bool Write(string address, byte[] body)
    {
        if (!TryKey(Resolve(address), out var key) || !MayReach(objects, task, submitter, key, ObjectOperations.Write))
        {
            return false;
        }

        var previous = _writes.TryGetValue(key.GrainKey, out var old) ? old.Length : 0;
        if (_written - previous + body.Length > maxWriteBytes)
        {
            return false;
        }

        _written += body.Length - previous;
        _writes[key.GrainKey] = body;
        return true;
    }

    /// <summary>The module's own namespaces by alias (it cannot know its task id in advance): <c>~task/NAME</c> and <c>~service/NAME</c>.</summary>
    public const string TaskAlias = "~task/";

    /// <inheritdoc cref="TaskAlias"/>
    public const string ServiceAlias = "~service/";

    private string Resolve(string address) =>
        address.StartsWith(TaskAlias, StringComparison.Ordinal) ? TaskNamespaces.Task(task.TaskId) + "/" + address[TaskAlias.Length..]
        : address.StartsWith(ServiceAlias, StringComparison.Ordinal) ? TaskNamespaces.Service(task.PackageId) + "/" + address[ServiceAlias.Length..]
        : address;

    /// <summary>Parses <c>namespace/name</c>.</summary>
    public static bool TryKey(string address, out ObjectKey key)
    {
        key = default;
        var slash = address.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && ObjectKey.TryCreate(address[..slash], address[(slash + 1)..], out key, out _);
    }
}
