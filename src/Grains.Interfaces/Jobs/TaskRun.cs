namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// What makes a job a service task: the package to run (every node retrieves and verifies it), the inputs checked
/// against its manifest, and where the validated outputs go. The run's output is a task output bundle (stdout, the
/// files under <c>/output</c> and the storage writes), so the job's proof covers all of them.
/// </summary>
/// <param name="TaskId">The task.</param>
/// <param name="PackageId">The service's package id.</param>
/// <param name="Version">Its version.</param>
/// <param name="PackageSha256">The published package's SHA-256: a node runs only a copy that hashes to it.</param>
/// <param name="InputsJson">The task's inputs (a JSON object), checked against the manifest at submission and again on every node.</param>
/// <param name="Trusted">Whether the publisher was trusted when the task was submitted (its tier's capabilities).</param>
/// <param name="OutputPrefix">Where the outputs are stored: <c>namespace/prefix/</c>, names from each output's format.</param>
/// <param name="Outputs">The manifest's outputs: name, file name format, file type.</param>
/// <param name="GlobalNamespaces">Mesh-global namespaces the submitter granted the task's storage proxy.</param>
/// <param name="ExecutorNode">The node whose fitness answer won the task request; the executor goes there while it can take it.</param>
[GenerateSerializer, Immutable, Alias("xmbl.TaskRun")]
public sealed record TaskRun(
    string TaskId,
    string PackageId,
    string Version,
    string PackageSha256,
    string InputsJson,
    bool Trusted,
    string OutputPrefix,
    IReadOnlyList<TaskOutputTarget> Outputs,
    IReadOnlyList<string> GlobalNamespaces,
    string? ExecutorNode);

/// <summary>One declared output of a task and how its stored name is made.</summary>
/// <param name="Name">The output name (<c>/output/NAME</c>).</param>
/// <param name="FilenameFormat">The manifest's unique-name format.</param>
/// <param name="FileType">The output's file type (<c>{ext}</c>).</param>
[GenerateSerializer, Immutable, Alias("xmbl.TaskOutputTarget")]
public sealed record TaskOutputTarget(string Name, string FilenameFormat, string FileType);

/// <summary>A validated task output as stored.</summary>
/// <param name="Output">The output name.</param>
/// <param name="Object">Its object address (<c>namespace/name</c>).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">Its SHA-256 (lower-case hex).</param>
[GenerateSerializer, Immutable, Alias("xmbl.StoredTaskOutput")]
public sealed record StoredTaskOutput(string Output, string Object, long Size, string Sha256);
