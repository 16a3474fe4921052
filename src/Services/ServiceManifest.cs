namespace Xmbl.Cluster.Services;

/// <summary>
/// A service's manifest (<c>manifest.json</c> in a package): what it is, who wrote it, what it needs from a node, what
/// it may call, what it takes and what it writes. Built only by <see cref="ManifestParser"/>, so a value is valid.
/// </summary>
/// <remarks>The fields of the service-library design, mapped to this system (see <c>docs/services.md</c>).</remarks>
public sealed record ServiceManifest
{
    /// <summary>Reverse-DNS package id, lower case (<c>org.example.ocr</c>).</summary>
    public required string PackageId { get; init; }

    /// <summary>Semantic version (semver 2.0).</summary>
    public required string Version { get; init; }

    /// <summary>What the service is for (<see cref="ServiceVocabulary.ServiceTypes"/>).</summary>
    public required string ServiceType { get; init; }

    /// <summary>The author's did:key; the package must be signed by this key.</summary>
    public required string Author { get; init; }

    /// <summary>A one-paragraph description for the library, or empty.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>Runtimes a node must have (<c>wasm</c>).</summary>
    public required IReadOnlyList<string> RuntimeRequired { get; init; }

    /// <summary>Engine features used when present (<c>simd</c>, …); a node without them still qualifies.</summary>
    public IReadOnlyList<string> RuntimeOptional { get; init; } = [];

    /// <summary>The least device profile a node must have (<see cref="ServiceVocabulary.DeviceProfiles"/>).</summary>
    public required string DeviceProfile { get; init; }

    /// <summary>Memory, CPU, storage and GPU needs.</summary>
    public required ResourceRequirements ResourceRequirements { get; init; }

    /// <summary>Platforms the service runs on (<see cref="ServiceVocabulary.Platforms"/>).</summary>
    public required IReadOnlyList<string> PlatformSupport { get; init; }

    /// <summary>Host capabilities beyond WASI the modules may import (<see cref="ServiceCapabilities"/>).</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>URL prefixes the <c>http</c> capability may fetch; present exactly when it is declared.</summary>
    public IReadOnlyList<string> HttpAllowList { get; init; } = [];

    /// <summary>The task inputs, validated before any run.</summary>
    public IReadOnlyList<ServiceInput> Inputs { get; init; } = [];

    /// <summary>The task outputs, stored under unique names.</summary>
    public IReadOnlyList<ServiceOutput> Outputs { get; init; } = [];

    /// <summary>The package's files besides the manifest (modules and data).</summary>
    public IReadOnlyList<ServiceFile> Files { get; init; } = [];

    /// <summary>The module a task runs (a <see cref="ServiceFileKind.Module"/> in <see cref="Files"/>); null for a builtin.</summary>
    public string? Entry { get; init; }

    /// <summary>A service the node provides itself: it ships no modules.</summary>
    public bool Builtin { get; init; }

    /// <summary>The library key: <c>packageId@version</c>.</summary>
    public string Key => PackageId + "@" + Version;
}

/// <summary>What a service needs from a node.</summary>
public sealed record ResourceRequirements
{
    /// <summary>Memory the service needs at least, in MiB.</summary>
    public required int MinMemoryMB { get; init; }

    /// <summary>Memory the service may use at most, in MiB (its linear memory cap).</summary>
    public required int MaxMemoryMB { get; init; }

    /// <summary>Expected CPU use, in cores (0.7 = 70% of one core).</summary>
    public required double EstimatedCpuUsage { get; init; }

    /// <summary>Storage the service needs on the node, in MiB.</summary>
    public int StorageRequiredMB { get; init; }

    /// <summary>Whether it needs a GPU (no node here offers one to WASM yet, so such a service finds no node).</summary>
    public bool RequiresGpu { get; init; }
}

/// <summary>One task input.</summary>
public sealed record ServiceInput
{
    /// <summary>The name (<c>[a-z][a-z0-9_-]*</c>), unique among inputs.</summary>
    public required string Name { get; init; }

    /// <summary>The type.</summary>
    public required ServiceValueType Type { get; init; }

    /// <summary>Whether a task must give it.</summary>
    public bool Required { get; init; } = true;

    /// <summary>What it is, for people.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>Least value (number, integer).</summary>
    public double? Minimum { get; init; }

    /// <summary>Greatest value (number, integer).</summary>
    public double? Maximum { get; init; }

    /// <summary>Longest text (string) in characters, or largest file (file) in bytes.</summary>
    public long? MaxLength { get; init; }

    /// <summary>Allowed file extensions, lower case without the dot (file); empty allows any.</summary>
    public IReadOnlyList<string> FileTypes { get; init; } = [];
}

/// <summary>One task output.</summary>
public sealed record ServiceOutput
{
    /// <summary>The name (<c>[a-z][a-z0-9_-]*</c>), unique among outputs; the module writes <c>/out/NAME</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The type: <see cref="ServiceValueType.File"/>, <see cref="ServiceValueType.String"/> or <see cref="ServiceValueType.Json"/>.</summary>
    public required ServiceValueType Type { get; init; }

    /// <summary>The stored name's format (<see cref="OutputNameFormat"/>): tokens <c>{output}</c>, <c>{task}</c>,
    /// <c>{utc}</c>, <c>{counter}</c>, <c>{ext}</c>; it must hold <c>{counter}</c>.</summary>
    public string FilenameFormat { get; init; } = OutputNameFormat.Default;

    /// <summary>The file extension <c>{ext}</c> stands for.</summary>
    public string FileType { get; init; } = "bin";

    /// <summary>What it is, for people.</summary>
    public string Description { get; init; } = string.Empty;
}

/// <summary>A file of the package besides the manifest.</summary>
/// <param name="Path">The path inside the package (<c>modules/main.wasm</c>), <c>/</c>-separated, relative.</param>
/// <param name="Kind">Module or data.</param>
public sealed record ServiceFile(string Path, ServiceFileKind Kind);

/// <summary>What a package file is.</summary>
public enum ServiceFileKind
{
    /// <summary>A WebAssembly module.</summary>
    Module,

    /// <summary>Data the modules read (a model, a table).</summary>
    Data,
}

/// <summary>The type of an input or output value.</summary>
public enum ServiceValueType
{
    /// <summary>Text.</summary>
    String,

    /// <summary>A number (double).</summary>
    Number,

    /// <summary>A whole number (64-bit).</summary>
    Integer,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>Any JSON value.</summary>
    Json,

    /// <summary>Bytes (base64 in requests, a file to the module).</summary>
    File,
}
