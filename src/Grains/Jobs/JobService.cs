using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Objects;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>What the gateway does with jobs: submit (validated, defaults applied), read, list, watch, cancel.</summary>
public sealed partial class JobService
{
    private const int ScanPage = 500;

    /// <summary>The longest one watch call waits, well below Orleans' call timeout (30 s).</summary>
    private static readonly TimeSpan WatchPoll = TimeSpan.FromSeconds(10);
    private readonly IGrainFactory _grains;
    private readonly IGrainStateQuery _query;
    private readonly ModuleStore _modules;
    private readonly JobObjects _objects;
    private readonly TimeProvider _time;
    private readonly ComputeOptions _options;
    private readonly Func<CancellationToken, ValueTask<long?>>? _largestNodeMemory;

    // largestNodeMemory: the most memory any node announces (null: unknown); a silo asks its scheduler, a standalone
    // gateway the node directory.
    internal JobService(IGrainFactory grains, IGrainStateQuery query, ModuleStore modules, JobObjects objects, TimeProvider time, IOptions<ComputeOptions> options, Func<CancellationToken, ValueTask<long?>>? largestNodeMemory = null)
    {
        _grains = grains;
        _query = query;
        _modules = modules;
        _objects = objects;
        _time = time;
        _options = options.Value;
        _largestNodeMemory = largestNodeMemory;
    }

    /// <summary>Validates the request, uploads an inline module, and submits the job.</summary>
    /// <param name="request">The request.</param>
    /// <param name="ct">Cancels the submission.</param>
    /// <returns>The job as submitted (scheduled, or pending when no node has room).</returns>
    /// <exception cref="JobRequestException">The request is invalid or names an unknown module.</exception>
    /// <exception cref="InsufficientFundsException">The submitter's balance is below the job's hold; nothing was queued.</exception>
    public async Task<JobRecord> SubmitAsync(JobRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field, []), message];

        var entry = string.IsNullOrEmpty(request.Entry) ? JobSpec.WasiStart : request.Entry;
        if (entry.Length > _options.MaxEntryLength)
        {
            Error("entry", $"has {entry.Length} characters; the limit is {_options.MaxEntryLength}");
        }

        var fuel = request.Fuel ?? _options.DefaultFuel;
        if (fuel <= 0 || fuel > _options.MaxFuel)
        {
            Error("limits.fuel", $"must be between 1 and {_options.MaxFuel}");
        }

        var pages = request.MemoryPages ?? _options.DefaultMemoryPages;
        if (pages < 1 || pages > _options.MaxMemoryPages)
        {
            Error("limits.memoryPages", $"must be between 1 and {_options.MaxMemoryPages}");
        }
        else if (_largestNodeMemory is not null && await _largestNodeMemory(ct) is { } largest
            && RunMemory.Of(new JobLimits(1, pages, TimeSpan.Zero), _options.RunMemoryOverheadBytes) is var needed && needed > largest)
        {
            // Refused now rather than after PendingTimeout: no node could ever admit it.
            Error("limits.memoryPages", $"the run needs {needed >> 20} MiB ({pages} pages of 64 KiB plus {_options.RunMemoryOverheadBytes >> 20} MiB per run); the largest node announces {largest >> 20} MiB");
        }

        var wall = request.WallTime ?? _options.DefaultWallTimeLimit;
        if (wall <= TimeSpan.Zero || wall > _options.MaxWallTime)
        {
            Error("limits.wallTimeMs", $"must be positive and at most {(long)_options.MaxWallTime.TotalMilliseconds} ms");
        }

        var validators = request.Validators ?? JobRequest.DefaultValidators;
        if (validators is < 0 or > JobSpec.MaxValidators)
        {
            Error("validators", $"must be 0, 1 or {JobSpec.MaxValidators}");
        }

        if (request.MaxPricePerMillionFuel is < 0)
        {
            Error("maxPrice", "cannot be negative");
        }

        var stdin = request.Stdin ?? [];
        if (stdin.Length > _options.MaxStdinBytes)
        {
            Error("stdin", $"has {stdin.Length} bytes; the limit is {_options.MaxStdinBytes}");
        }

        if (request.Submitter is null || !Identity.PublicIdentity.TryParseDid(request.Submitter, out _))
        {
            // The job's maximum price is held from the submitter's account: an account is a did:key.
            Error("submitter", "the job needs a submitting account (a did:key), whose balance holds the job's maximum price");
        }

        var args = request.Args ?? [];
        CheckArgs(args, Error);
        var env = request.Env ?? [];
        CheckEnv(env, Error);
        var inputs = request.InputObjects ?? [];
        CheckAddresses(inputs, request.OutputObject, Error);
        var hash = request.ModuleHash;
        ModuleInfo? module = null;
        if (request.ModuleBytes is { } bytes)
        {
            if (errors.Count > 0)
            {
                // A refused request stores nothing, not even its inline module.
                throw new JobRequestException(errors);
            }

            try
            {
                module = await _modules.AddAsync(bytes, ct);
                if (hash is not null && !string.Equals(hash, module.Hash, StringComparison.Ordinal))
                {
                    Error("module", $"the inline module's hash is {module.Hash}, not {hash}");
                }

                hash = module.Hash;
            }
            catch (ModuleRejectedException ex)
            {
                Error("moduleBase64", ex.Message);
            }
        }
        else if (!ModuleStore.IsValidHash(hash))
        {
            Error("module", "give the module's SHA-256 as 64 lower-case hex digits (from POST /api/modules), or the module inline");
        }
        else
        {
            module = await _modules.GetInfoAsync(hash!);
            if (module is null)
            {
                Error("module", $"module {hash} was never uploaded; POST it to /api/modules first");
            }
        }

        if (module is not null && entry.Length <= _options.MaxEntryLength && !module.Exports.Contains(entry, StringComparer.Ordinal))
        {
            Error("entry", entry == JobSpec.WasiStart
                ? "the module exports no _start (not a WASI command); name an exported function as the entry"
                : $"the module exports no function '{entry}'; it exports: {Listing(module.Exports)}");
        }

        if (errors.Count > 0)
        {
            throw new JobRequestException(errors);
        }

        var pins = await _objects.CheckAsync(inputs, request.OutputObject, request.Submitter ?? ObjectService.AnonymousAccount, Error);
        if (errors.Count > 0)
        {
            throw new JobRequestException(errors);
        }

        var spec = new JobSpec(
            hash!, entry, args, env, stdin, new JobLimits(fuel, pages, wall), request.MaxPricePerMillionFuel, validators,
            inputs, request.OutputObject, request.Submitter, inputs.Count > 0 ? pins : null, module?.Features);
        var id = JobIds.New(_time.GetUtcNow());
        using var span = Telemetry.ClusterTelemetry.StartSubmit(id);
        var submission = await _grains.GetGrain<IJobGrain>(id).SubmitAsync(spec);
        return submission.Job ?? throw new InsufficientFundsException(submission.ShortOf!, submission.Hold);
    }

    /// <summary>The job as last committed, or null when the id is unknown.</summary>
    /// <param name="id">The job id.</param>
    /// <returns>The record.</returns>
    /// <remarks>Reads the stored state, not the grain, so readers (API polls) never delay the job's transitions.</remarks>
    public async Task<JobRecord?> GetAsync(string id) =>
        await ReadAsync(id) is { } state ? JobStateMachine.ToRecord(state) : null;

    /// <summary>The job's accepted output, or null while there is none or the id is unknown.</summary>
    /// <param name="id">The job id.</param>
    /// <returns>The output.</returns>
    public async Task<byte[]?> GetOutputAsync(string id) =>
        await ReadAsync(id) is { Result: not null } state ? state.Output ?? [] : null;

    /// <summary>One job's stored state (every transition is stored before its call returns).</summary>
    private async Task<JobGrainState?> ReadAsync(string id) =>
        JobIds.IsValid(id) && await _query.GetAsync<JobGrainState>(GrainStates.Job, id) is { State.Exists: true } entry ? entry.State : null;

    /// <summary>Cancels the job and stops its runs, on whichever silos host its nodes; null when the id is unknown.</summary>
    /// <param name="id">The job id.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The job after cancelling.</returns>
    public async Task<JobRecord?> CancelAsync(string id, string? reason)
    {
        if (!JobIds.IsValid(id))
        {
            return null;
        }

        // The job grain stops the runs on the nodes' silos as part of the cancellation.
        return await _grains.GetGrain<IJobGrain>(id).CancelAsync(reason ?? "cancelled by the submitter");
    }

    /// <summary>Lists jobs in submission order, filtered, one page at a time.</summary>
    /// <param name="query">Filters and paging.</param>
    /// <param name="ct">Cancels the listing.</param>
    /// <returns>The page and the cursor of the next one.</returns>
    public async Task<JobPage> ListAsync(JobQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var items = new List<JobRecord>(limit);
        var after = query.After;
        var scanned = 0;
        while (true)
        {
            var page = await _query.ListAsync<JobGrainState>(GrainStates.Job, null, after, ScanPage, ct);
            foreach (var entry in page)
            {
                scanned++;
                after = entry.Key;
                if (entry.State.Exists && Matches(entry.State, query))
                {
                    items.Add(JobStateMachine.ToRecord(entry.State));
                    if (items.Count == limit)
                    {
                        return new JobPage(items, entry.Key);
                    }
                }
            }

            if (page.Count < ScanPage)
            {
                return new JobPage(items, null);
            }

            // A selective filter over many jobs returns what it found so far; the cursor continues the scan.
            if (scanned >= query.MaxScan)
            {
                return new JobPage(items, after);
            }
        }
    }

    /// <summary>Yields the job now and after every change, until it is final (then once more) or <paramref name="ct"/> fires.</summary>
    /// <param name="id">The job id.</param>
    /// <param name="ct">Stops watching.</param>
    /// <returns>The job's successive records.</returns>
    public async IAsyncEnumerable<JobRecord> WatchAsync(string id, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!JobIds.IsValid(id))
        {
            yield break;
        }

        // A long poll on the job grain: it answers at the job's next change, on whichever silo it is active.
        var grain = _grains.GetGrain<IJobGrain>(id);
        var seen = -1;
        while (!ct.IsCancellationRequested)
        {
            JobRecord? record;
            try
            {
                record = await grain.WaitForChangeAsync(seen, WatchPoll).WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (record is null)
            {
                yield break;
            }

            if (record.Transitions.Count != seen)
            {
                seen = record.Transitions.Count;
                yield return record;
            }

            if (record.IsFinal)
            {
                yield break;
            }
        }
    }

    private void CheckArgs(IReadOnlyList<string> args, Action<string, string> error)
    {
        if (args.Count > _options.MaxArgs)
        {
            error("args", $"has {args.Count} arguments; the limit is {_options.MaxArgs}");
            return;
        }

        long bytes = 0;
        for (var i = 0; i < args.Count; i++)
        {
            if (TextProblem(args[i]) is { } problem)
            {
                error($"args[{i}]", problem);
            }
            else
            {
                bytes += Encoding.UTF8.GetByteCount(args[i]) + 1;
            }
        }

        if (bytes > _options.MaxArgsBytes)
        {
            error("args", $"has {bytes} bytes (UTF-8, one NUL after each); the limit is {_options.MaxArgsBytes}");
        }
    }

    private void CheckEnv(IReadOnlyList<KeyValuePair<string, string>> env, Action<string, string> error)
    {
        if (env.Count > _options.MaxEnvVars)
        {
            error("env", $"has {env.Count} variables; the limit is {_options.MaxEnvVars}");
            return;
        }

        long bytes = 0;
        // Few variables are scanned for repeats without allocating; many get a set.
        var names = env.Count > 32 ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < env.Count; i++)
        {
            var (name, value) = env[i];
            if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || TextProblem(name) is not null)
            {
                error("env", $"'{Shorten(name)}' is not a valid variable name (non-empty, valid Unicode, no '=', no NUL)");
                continue;
            }

            if (names is null ? IsRepeated(env, i) : !names.Add(name))
            {
                error("env", $"'{Shorten(name)}' is given twice");
                continue;
            }

            if (TextProblem(value) is { } problem)
            {
                error("env." + Shorten(name), problem);
                continue;
            }

            bytes += Encoding.UTF8.GetByteCount(name) + 1 + Encoding.UTF8.GetByteCount(value) + 1;
        }

        if (bytes > _options.MaxEnvBytes)
        {
            error("env", $"has {bytes} bytes (UTF-8 NAME=value, one NUL after each); the limit is {_options.MaxEnvBytes}");
        }
    }

    /// <summary>Checks object addresses before storage is asked about them: present, and not longer than an address can be.</summary>
    private void CheckAddresses(IReadOnlyList<string> inputs, string? output, Action<string, string> error)
    {
        const int MaxAddress = ObjectKey.MaxNamespaceLength + 1 + ObjectKey.MaxNameLength;
        if (inputs.Count > _options.MaxInputObjects)
        {
            error("inputObjects", $"has {inputs.Count} objects; the limit is {_options.MaxInputObjects}");
            return;
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null)
            {
                error($"inputObjects[{i}]", "must be an object address (namespace/name), not null");
            }
            else if (inputs[i].Length > MaxAddress)
            {
                error($"inputObjects[{i}]", $"has {inputs[i].Length} characters; an address has at most {MaxAddress}");
            }
        }

        if (output is { Length: > MaxAddress })
        {
            error("outputObject", $"has {output.Length} characters; an address has at most {MaxAddress}");
        }
    }

    /// <summary>Why a program string (argument, variable) is refused, or null: it is null, holds NUL or is not valid Unicode.</summary>
    private static string? TextProblem(string? text) =>
        text is null ? "must be a string, not null"
        : text.Contains('\0', StringComparison.Ordinal) || !WellFormedText.IsWellFormed(text)
            ? "cannot contain NUL (programs see it as the end of the string) or a lone surrogate (not valid Unicode)"
            : null;

    /// <summary>Whether the variable at <paramref name="index"/> was named before.</summary>
    private static bool IsRepeated(IReadOnlyList<KeyValuePair<string, string>> env, int index)
    {
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(env[j].Key, env[index].Key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "…";

    private static string Listing(IReadOnlyList<string> exports) =>
        exports.Count <= 20 ? string.Join(", ", exports) : string.Join(", ", exports.Take(20)) + $" and {exports.Count - 20} more";

    private static bool Matches(JobGrainState state, JobQuery query) =>
        (query.Status is null || state.Status == query.Status)
        && (query.ModuleHash is null || string.Equals(state.Spec!.ModuleHash, query.ModuleHash, StringComparison.Ordinal))
        && (query.NodeId is null || state.Assignments.Any(a => string.Equals(a.NodeId, query.NodeId, StringComparison.Ordinal)))
        && (query.Submitter is null || string.Equals(state.Spec!.Submitter, query.Submitter, StringComparison.Ordinal));
}

/// <summary>Filters and paging of a job listing.</summary>
/// <param name="Status">Only jobs in this status.</param>
/// <param name="ModuleHash">Only jobs of this module.</param>
/// <param name="NodeId">Only jobs a node was assigned to.</param>
/// <param name="Submitter">Only jobs of this submitter.</param>
/// <param name="After">The cursor: the last id of the previous page.</param>
/// <param name="Limit">Page size, 1 to 1000.</param>
/// <param name="MaxScan">Jobs examined at most per page before returning what was found.</param>
public sealed record JobQuery(JobStatus? Status = null, string? ModuleHash = null, string? NodeId = null, string? Submitter = null, string? After = null, int Limit = 50, int MaxScan = 20_000);

/// <summary>A page of jobs.</summary>
/// <param name="Items">The jobs.</param>
/// <param name="Next">The cursor of the next page, or null at the end.</param>
public sealed record JobPage(IReadOnlyList<JobRecord> Items, string? Next);
