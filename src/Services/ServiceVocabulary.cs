namespace Xmbl.Cluster.Services;

/// <summary>The closed vocabularies of manifest fields (the JSON Schema in <c>docs/services.md</c> lists the same).</summary>
public static class ServiceVocabulary
{
    /// <summary>The one runtime of this system: WebAssembly (the seed's JVM, Python, … map to it).</summary>
    public const string Wasm = "wasm";

    /// <summary>Service types.</summary>
    public static IReadOnlyList<string> ServiceTypes { get; } =
    [
        "workflow", "ml-inference", "ml-training", "data-processing", "computational", "cryptographic",
        "media-processing", "web", "utility",
    ];

    /// <summary>Runtimes a node can have.</summary>
    public static IReadOnlyList<string> Runtimes { get; } = [Wasm];

    /// <summary>Optional engine features.</summary>
    public static IReadOnlyList<string> EngineFeatures { get; } =
        ["simd", "relaxed-simd", "threads", "bulk-memory", "reference-types", "multi-value", "tail-call", "multi-memory", "memory64"];

    /// <summary>Device profiles, least first: a node of a profile runs services asking for it or a lesser one.</summary>
    public static IReadOnlyList<string> DeviceProfiles { get; } = ["budget", "mid-range", "flagship"];

    /// <summary>Platforms.</summary>
    public static IReadOnlyList<string> Platforms { get; } = ["linux", "windows", "macos", "android", "ios", "browser"];

    /// <summary>The rank of a device profile (0 = budget), or -1 for an unknown one.</summary>
    /// <param name="profile">The profile name.</param>
    /// <returns>The rank.</returns>
    public static int ProfileRank(string profile)
    {
        for (var i = 0; i < DeviceProfiles.Count; i++)
        {
            if (string.Equals(DeviceProfiles[i], profile, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>Host capabilities beyond WASI preview1 a manifest may declare.</summary>
public static class ServiceCapabilities
{
    /// <summary>Structured log lines to the node's log (<c>xmbl.log</c>).</summary>
    public const string Logging = "logging";

    /// <summary>The storage proxy: read and write objects in the namespaces the task may use.</summary>
    public const string Storage = "storage";

    /// <summary>Nested jobs: run another module inside the task's budget (<c>xmbl.run_module</c>).</summary>
    public const string Jobs = "jobs";

    /// <summary>HTTP GET through the manifest's allow-list.</summary>
    public const string Http = "http";

    /// <summary>Every capability.</summary>
    public static IReadOnlyList<string> All { get; } = [Logging, Storage, Jobs, Http];
}
