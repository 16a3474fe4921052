namespace Xmbl.Cluster.Services;

/// <summary>What the gate decided for one module: the capabilities it gets, or why it is refused.</summary>
/// <param name="Granted">The capabilities the run links (declared, imported and allowed by the tier).</param>
/// <param name="Refusal">Why the module may not start, or null.</param>
public sealed record CapabilityDecision(IReadOnlySet<string> Granted, string? Refusal)
{
    /// <summary>Whether the module may start.</summary>
    public bool Allowed => Refusal is null;
}

/// <summary>
/// The host imports beyond WASI preview1, which capability each belongs to, and which tier may have it. A module is
/// refused before it starts (at <c>task_start</c>, and by <c>xmbl service test</c>) when it imports anything that is
/// not WASI, not a known host import, not declared in its manifest, or not allowed to its publisher's tier.
/// </summary>
public static class CapabilityGate
{
    /// <summary>The import module of the host capabilities.</summary>
    public const string HostModule = "xmbl";

    /// <summary>The WASI preview1 import module, always allowed.</summary>
    public const string WasiModule = "wasi_snapshot_preview1";

    /// <summary>The host imports and their capability.</summary>
    public static IReadOnlyDictionary<string, string> Imports { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["log"] = ServiceCapabilities.Logging,
        ["storage_read"] = ServiceCapabilities.Storage,
        ["storage_write"] = ServiceCapabilities.Storage,
        ["run_module"] = ServiceCapabilities.Jobs,
        ["http_get"] = ServiceCapabilities.Http,
    };

    /// <summary>The capabilities an untrusted package may have: logging only (it reveals nothing and reaches nothing).</summary>
    public static IReadOnlySet<string> UntrustedCapabilities { get; } = new HashSet<string>(StringComparer.Ordinal) { ServiceCapabilities.Logging };

    /// <summary>Decides for a module's imports.</summary>
    /// <param name="manifest">The manifest (its declared capabilities).</param>
    /// <param name="imports">The module's imports as (module, name).</param>
    /// <param name="tier">The publisher's tier.</param>
    /// <returns>The decision.</returns>
    public static CapabilityDecision Decide(ServiceManifest manifest, IEnumerable<(string Module, string Name)> imports, TrustTier tier)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(imports);
        var granted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (module, name) in imports)
        {
            if (module == WasiModule)
            {
                continue;
            }

            if (module != HostModule || !Imports.TryGetValue(name, out var capability))
            {
                return Refuse($"the module imports {module}.{name}, which is neither WASI preview1 nor a host capability ({string.Join(", ", Imports.Keys.Select(k => HostModule + "." + k))})");
            }

            if (!manifest.Capabilities.Contains(capability))
            {
                return Refuse($"the module imports {module}.{name} (capability '{capability}'), which the manifest does not declare");
            }

            if (tier == TrustTier.Untrusted && !UntrustedCapabilities.Contains(capability))
            {
                return Refuse($"the module imports {module}.{name} (capability '{capability}'), which an untrusted publisher does not get; the operator or two publishers' endorsements make it trusted");
            }

            granted.Add(capability);
        }

        return new CapabilityDecision(granted, null);
    }

    private static CapabilityDecision Refuse(string reason) => new(new HashSet<string>(), reason);
}
