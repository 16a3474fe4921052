using System.Globalization;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Grains.Jobs.Storage;

/// <summary>
/// Jobs' storage proxy: checks and pins the stored objects a job reads when it is submitted, gives every run the same
/// bytes as files under <see cref="InputMount"/> (each run has its own copy; what a run writes there is discarded),
/// and stores the validated output as an object.
/// </summary>
/// <remarks>
/// Inputs are pinned by their SHA-256 at submission, so the executor and its validators read identical bytes or
/// all fail the same way ("changed since submission"). Only the agreed output is stored, once, by the call that
/// validates the job, and the job record names the object.
/// </remarks>
internal sealed class JobObjects(ObjectService? objects, IGrainFactory grains, IOptions<ComputeOptions> options, TimeProvider time)
{
    /// <summary>Where the inputs appear in the guest: <c>/input/namespace/name</c>.</summary>
    public const string InputMount = "/input";

    private const string OutputContentType = "application/octet-stream";
    private readonly ComputeOptions _options = options.Value;

    /// <summary>Checks a submission's inputs and output for <paramref name="account"/>; returns the inputs' pins.</summary>
    /// <param name="inputs">The input objects, <c>namespace/name</c>.</param>
    /// <param name="output">The output object or prefix, or null.</param>
    /// <param name="account">Who reads the inputs and will own the output.</param>
    /// <param name="error">Collects problems by request field.</param>
    /// <returns>The SHA-256 of each input, in order.</returns>
    public async Task<IReadOnlyList<string>> CheckAsync(IReadOnlyList<string> inputs, string? output, string account, Action<string, string> error)
    {
        if (inputs.Count == 0 && output is null)
        {
            return [];
        }

        if (objects is null)
        {
            error(inputs.Count > 0 ? "inputObjects" : "outputObject", "object storage is not enabled on this silo");
            return [];
        }

        if (inputs.Count > _options.MaxInputObjects)
        {
            error("inputObjects", $"has {inputs.Count} objects; the limit is {_options.MaxInputObjects}");
            return [];
        }

        var pins = new List<string>(inputs.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var address in inputs)
        {
            if (!TryParse(address, out var key, out var why))
            {
                error("inputObjects", why);
                continue;
            }

            if (!seen.Add(key.GrainKey))
            {
                error("inputObjects", $"'{address}' is listed twice");
                continue;
            }

            try
            {
                objects.Authorize(key.Namespace, key.Name, account, ObjectOperations.Read);
            }
            catch (ObjectPolicyException ex)
            {
                error("inputObjects", $"'{address}': {ex.Message}");
                continue;
            }

            if (await objects.GetAsync(key) is not { } stored)
            {
                error("inputObjects", $"'{address}' does not exist");
                continue;
            }

            total += stored.Manifest.Size;
            pins.Add(stored.Manifest.Sha256);
        }

        if (total > _options.MaxInputBytes)
        {
            error("inputObjects", $"the inputs hold {total} bytes; the limit is {_options.MaxInputBytes}");
        }

        if (output is not null)
        {
            if (!TryParseOutput(output, out var key, out var prefix, out var why))
            {
                error("outputObject", why);
            }
            else
            {
                try
                {
                    objects.Authorize(key.Namespace, key.Name, account, ObjectOperations.Write);
                    if (prefix is null && await objects.GetAsync(key) is { } existing && !string.Equals(existing.Owner, account, StringComparison.Ordinal))
                    {
                        error("outputObject", $"'{output}' belongs to {existing.Owner}; only its owner may replace it");
                    }
                }
                catch (ObjectPolicyException ex)
                {
                    error("outputObject", ex.Message);
                }
            }
        }

        return pins;
    }

    /// <summary>The job's inputs as a file system for one run, or null when it reads none.</summary>
    /// <exception cref="JobInputException">An input is gone or changed since submission (every node sees the same).</exception>
    public async Task<InMemoryWasiFileSystem?> LoadInputsAsync(JobSpec spec, CancellationToken ct)
    {
        if (spec.InputObjects.Count == 0)
        {
            return null;
        }

        if (objects is null)
        {
            throw new JobInputException("object storage is not enabled on this silo");
        }

        var files = new InMemoryWasiFileSystem();
        for (var i = 0; i < spec.InputObjects.Count; i++)
        {
            var address = spec.InputObjects[i];
            if (!TryParse(address, out var key, out var why))
            {
                throw new JobInputException(why);
            }

            if (await objects.GetAsync(key) is not { } stored)
            {
                throw new JobInputException($"input '{address}' was deleted after the job was submitted");
            }

            if (spec.InputSha256 is { } pins && (i >= pins.Count || !string.Equals(pins[i], stored.Manifest.Sha256, StringComparison.OrdinalIgnoreCase)))
            {
                throw new JobInputException($"input '{address}' changed after the job was submitted");
            }

            if (stored.Manifest.Size > Math.Min(_options.MaxInputBytes, Array.MaxLength))
            {
                throw new JobInputException($"input '{address}' has {stored.Manifest.Size} bytes; the limit is {_options.MaxInputBytes}");
            }

            using var content = new MemoryStream((int)stored.Manifest.Size);
            await objects.ReadAsync(stored, content, 0, null, ct);
            try
            {
                files.AddFile(key.Namespace + "/" + key.Name, content.GetBuffer().AsSpan(0, (int)content.Length));
            }
            catch (IOException ex)
            {
                throw new JobInputException($"input '{address}' cannot be mounted: {ex.Message}");
            }
        }

        return files;
    }

    /// <summary>Stores a validated job's output where its spec says; returns the object's address and a note for the record.</summary>
    public async Task<(string? Stored, string Note)> StoreOutputAsync(JobSpec spec, byte[] output)
    {
        if (spec.OutputObject is not { } target)
        {
            return (null, "no output object requested");
        }

        if (objects is null)
        {
            return (null, "output not stored: object storage is not enabled on this silo");
        }

        if (!TryParseOutput(target, out var key, out var prefix, out var why))
        {
            return (null, "output not stored: " + why);
        }

        try
        {
            if (prefix is not null)
            {
                // A unique name under the prefix: UTC time plus a cluster-wide counter.
                var n = await grains.GetGrain<IOutputNameGrain>(key.Namespace + "/" + prefix).NextAsync();
                var name = prefix + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + n.ToString("D6", CultureInfo.InvariantCulture);
                if (!ObjectKey.TryCreate(key.Namespace, name, out key, out why))
                {
                    return (null, "output not stored: " + why);
                }
            }

            using var body = new MemoryStream(output, writable: false);
            await objects.PutAsync(key, new ObjectWriteOptions(spec.Submitter ?? ObjectService.AnonymousAccount, OutputContentType), output.Length, body, CancellationToken.None);
            return (key.GrainKey, $"output stored as {key.GrainKey} ({output.Length} bytes)");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The computation stands whatever storage says; the record tells why the object is missing.
            return (null, "output not stored: " + ex.Message);
        }
    }

    /// <summary>The storage proxy of one task run, or null when this silo has no object storage.</summary>
    public TaskStorageProxy? CreateTaskProxy(TaskRun task, string submitter, long maxWriteBytes) =>
        objects is null ? null : new TaskStorageProxy(objects, task, submitter, maxWriteBytes);

    /// <summary>
    /// Stores a validated task's outputs under its output prefix, each named by its manifest format (a cluster-wide
    /// counter per prefix and output makes the name unique), and commits the storage writes its run made.
    /// </summary>
    /// <returns>What was stored, and a note for the record.</returns>
    public async Task<(List<StoredTaskOutput> Stored, string Note)> StoreTaskOutputsAsync(string jobId, JobSpec spec, byte[] output)
    {
        var task = spec.Task!;
        var stored = new List<StoredTaskOutput>();
        if (objects is null)
        {
            return (stored, "task outputs not stored: object storage is not enabled on this silo");
        }

        if (!TaskOutputBundle.TryDecode(output, out var bundle))
        {
            return (stored, "task outputs not stored: the validated output is not a task output bundle (the run did not finish)");
        }

        var submitter = spec.Submitter ?? ObjectService.AnonymousAccount;
        var problems = new List<string>();
        var slash = task.OutputPrefix.IndexOf('/', StringComparison.Ordinal);
        var @namespace = task.OutputPrefix[..slash];
        var prefix = task.OutputPrefix[(slash + 1)..];
        var now = time.GetUtcNow();
        foreach (var target in task.Outputs)
        {
            if (!bundle.Files.TryGetValue(target.Name, out var bytes))
            {
                continue;
            }

            var counter = await grains.GetGrain<IOutputNameGrain>(task.OutputPrefix + target.Name).NextAsync();
            var name = prefix + OutputNameFormat.Format(target.FilenameFormat, target.Name, task.TaskId, now, counter, target.FileType);
            if (!ObjectKey.TryCreate(@namespace, name, out var key, out var why))
            {
                problems.Add($"{target.Name}: {why}");
                continue;
            }

            if (await PutAsync(key, new ObjectWriteOptions(submitter, OutputContentType), bytes, problems, target.Name) is { } done)
            {
                stored.Add(done);
            }
        }

        var principal = TaskStorageProxy.PrincipalOf(task, submitter);
        foreach (var (address, bytes) in bundle.StorageWrites.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            if (!TaskStorageProxy.TryKey(address, out var key))
            {
                continue;
            }

            // Task and service namespaces hold objects owned by the namespace itself, so every task of the service
            // (whoever submitted it) may replace them; a granted mesh-global namespace gets the submitter's objects.
            var global = task.GlobalNamespaces.Contains(key.Namespace, StringComparer.Ordinal);
            var write = new ObjectWriteOptions(global ? submitter : key.Namespace, OutputContentType) { TaskId = principal.TaskId, ServiceId = principal.ServiceId };
            if (await PutAsync(key, write, bytes, problems, "storage") is { } done)
            {
                stored.Add(done with { Output = TaskStorageWrite });
            }
        }

        var note = $"task outputs stored: {(stored.Count == 0 ? "none" : string.Join(", ", stored.Select(s => $"{s.Output} as {s.Object} ({s.Size} bytes)")))}";
        return (stored, problems.Count == 0 ? note : note + "; not stored: " + string.Join("; ", problems));
    }

    /// <summary>The <see cref="StoredTaskOutput.Output"/> of an object a task wrote through the storage proxy.</summary>
    public const string TaskStorageWrite = "@storage";

    private async Task<StoredTaskOutput?> PutAsync(ObjectKey key, ObjectWriteOptions write, byte[] bytes, List<string> problems, string what)
    {
        try
        {
            using var body = new MemoryStream(bytes, writable: false);
            var version = await objects!.PutAsync(key, write, bytes.Length, body, CancellationToken.None);
            return new StoredTaskOutput(what, key.GrainKey, bytes.Length, version.Manifest.Sha256);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The computation stands whatever storage says; the record tells why an object is missing.
            problems.Add($"{what} ({key.GrainKey}): {ex.Message}");
            return null;
        }
    }

    private static bool TryParse(string? address, out ObjectKey key, out string error)
    {
        key = default;
        var slash = address?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash <= 0)
        {
            error = $"'{address}' is not an object address: write namespace/name";
            return false;
        }

        if (!ObjectKey.TryCreate(address![..slash], address[(slash + 1)..], out key, out var why))
        {
            error = $"'{address}': {why}";
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>Parses <c>namespace/name</c> or <c>namespace/prefix/</c>; for a prefix, <paramref name="key"/> is a sample name under it.</summary>
    private static bool TryParseOutput(string address, out ObjectKey key, out string? prefix, out string error)
    {
        prefix = null;
        if (address.EndsWith('/'))
        {
            var slash = address.IndexOf('/', StringComparison.Ordinal);
            prefix = address[(slash + 1)..];
            // A sample of the names that will be made, so that the prefix is checked like a real name.
            return TryParse(address + "00000000T000000Z-000001", out key, out error);
        }

        return TryParse(address, out key, out error);
    }
}

/// <summary>A job's input cannot be given to the run; every node would find the same, so the run ends as invalid.</summary>
internal sealed class JobInputException(string message) : Exception(message);
