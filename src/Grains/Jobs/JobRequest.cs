namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>A job as a client asks for it; unset members take the defaults of <see cref="Options.ComputeOptions"/>.</summary>
/// <param name="ModuleHash">The module's SHA-256 (hex), or null when <paramref name="ModuleBytes"/> carries the module inline.</param>
/// <param name="ModuleBytes">An inline module, uploaded as with <c>POST /api/modules</c>.</param>
/// <param name="Entry"><c>_start</c> (the default) or an exported function.</param>
/// <param name="Args">Program arguments, or the function's arguments as text.</param>
/// <param name="Env">Environment variables.</param>
/// <param name="Stdin">Standard input.</param>
/// <param name="Fuel">Fuel limit.</param>
/// <param name="MemoryPages">Memory limit in 64 KiB pages.</param>
/// <param name="WallTime">Wall-clock limit.</param>
/// <param name="MaxPricePerMillionFuel">The highest node price accepted.</param>
/// <param name="Validators">0, 1 or 2 (default 1).</param>
/// <param name="InputObjects">Stored objects the job reads.</param>
/// <param name="OutputObject">Where to store the output.</param>
/// <param name="Submitter">The calling account: it reads the inputs and owns the output. Callers set it from who is
/// calling (the gateway from the request's account), never from the request body.</param>
public sealed record JobRequest(
    string? ModuleHash,
    byte[]? ModuleBytes = null,
    string? Entry = null,
    IReadOnlyList<string>? Args = null,
    IReadOnlyList<KeyValuePair<string, string>>? Env = null,
    byte[]? Stdin = null,
    long? Fuel = null,
    int? MemoryPages = null,
    TimeSpan? WallTime = null,
    decimal? MaxPricePerMillionFuel = null,
    int? Validators = null,
    IReadOnlyList<string>? InputObjects = null,
    string? OutputObject = null,
    string? Submitter = null)
{
    /// <summary>Validators of a job that names none.</summary>
    public const int DefaultValidators = 1;
}
