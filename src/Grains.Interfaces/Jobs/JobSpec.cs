namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>What to run: the module, the entry point, the input and the limits. Immutable once submitted.</summary>
/// <param name="ModuleHash">SHA-256 of the module bytes, lower-case hex.</param>
/// <param name="Entry"><c>_start</c> for a WASI command, or the name of an exported function.</param>
/// <param name="Args">For <c>_start</c>: the program arguments after <c>argv[0]</c>; for an export: its arguments as text (parsed by parameter type).</param>
/// <param name="Env">Environment variables, in order.</param>
/// <param name="Stdin">Bytes on standard input.</param>
/// <param name="Limits">Fuel, memory and wall-clock limits.</param>
/// <param name="MaxPricePerMillionFuel">The highest node price (credits per million fuel) the submitter accepts; null accepts any price.</param>
/// <param name="Validators">How many further nodes re-run the job to check the result: 0, 1 or 2.</param>
/// <param name="InputObjects">Stored objects (<c>namespace/name</c>) the job reads: each run sees them as files
/// <c>/input/namespace/name</c> (its own copy).</param>
/// <param name="OutputObject">Where the validated output (stdout) is stored: <c>namespace/name</c>, or <c>namespace/prefix/</c>
/// (ending in '/') for a unique name under the prefix (UTC time plus a counter); null stores nothing.</param>
/// <param name="Submitter">Who submitted the job (account identity), if known.</param>
/// <param name="InputSha256">The SHA-256 of each input object's version when the job was submitted (same order); every run
/// checks it, so the executor and its validators read the same bytes.</param>
/// <param name="Features">The module's optional WebAssembly features (<see cref="ModuleInfo.Features"/>): every run goes to a node
/// whose engine runs them. Null for none.</param>
/// <param name="Task">For a service task: the package, inputs and output targets (<see cref="TaskRun"/>); null for a plain job.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobSpec")]
public sealed record JobSpec(
    string ModuleHash,
    string Entry,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    byte[] Stdin,
    JobLimits Limits,
    decimal? MaxPricePerMillionFuel,
    int Validators,
    IReadOnlyList<string> InputObjects,
    string? OutputObject,
    string? Submitter,
    IReadOnlyList<string>? InputSha256 = null,
    IReadOnlyList<string>? Features = null,
    TaskRun? Task = null)
{
    /// <summary>The entry point of WASI commands.</summary>
    public const string WasiStart = "_start";

    /// <summary>The most validators a job may ask for.</summary>
    public const int MaxValidators = 2;
}
