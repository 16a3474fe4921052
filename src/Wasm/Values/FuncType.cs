namespace Xmbl.Cluster.Wasm;

/// <summary>A function signature: parameter and result types, compared structurally.</summary>
public sealed class FuncType : IEquatable<FuncType>
{
    private readonly WasmValueType[] _parameters;
    private readonly WasmValueType[] _results;
    private readonly int _hash;

    /// <summary>Creates a function type.</summary>
    /// <param name="parameters">Parameter types in order.</param>
    /// <param name="results">Result types in order.</param>
    public FuncType(IReadOnlyList<WasmValueType> parameters, IReadOnlyList<WasmValueType> results)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(results);
        _parameters = [.. parameters];
        _results = [.. results];
        var hash = new HashCode();
        foreach (var p in _parameters)
        {
            hash.Add(p);
        }

        hash.Add(-1);
        foreach (var r in _results)
        {
            hash.Add(r);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>The empty signature <c>[] -&gt; []</c>.</summary>
    public static FuncType Empty { get; } = new([], []);

    /// <summary>Parameter types in order.</summary>
    public IReadOnlyList<WasmValueType> Parameters => _parameters;

    /// <summary>Result types in order.</summary>
    public IReadOnlyList<WasmValueType> Results => _results;

    /// <summary>Parameter types as a span (no copy).</summary>
    public ReadOnlySpan<WasmValueType> ParameterSpan => _parameters;

    /// <summary>Result types as a span (no copy).</summary>
    public ReadOnlySpan<WasmValueType> ResultSpan => _results;

    /// <inheritdoc/>
    public bool Equals(FuncType? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (_hash == other._hash && _parameters.AsSpan().SequenceEqual(other._parameters) && _results.AsSpan().SequenceEqual(other._results)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as FuncType);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Structural equality.</summary>
    /// <param name="left">The first type.</param>
    /// <param name="right">The second type.</param>
    /// <returns>True when both have the same parameters and results.</returns>
    public static bool operator ==(FuncType? left, FuncType? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Structural inequality.</summary>
    /// <param name="left">The first type.</param>
    /// <param name="right">The second type.</param>
    /// <returns>True when the signatures differ.</returns>
    public static bool operator !=(FuncType? left, FuncType? right) => !(left == right);

    /// <inheritdoc/>
    public override string ToString() =>
        "[" + string.Join(' ', _parameters.Select(p => p.ToWatName())) + "] -> [" + string.Join(' ', _results.Select(r => r.ToWatName())) + "]";
}
