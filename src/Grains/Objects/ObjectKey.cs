using System.Diagnostics.CodeAnalysis;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>An object's address, <c>namespace/name</c>, checked so that it is safe in URLs, file names and listings.</summary>
public readonly record struct ObjectKey
{
    /// <summary>The longest namespace.</summary>
    public const int MaxNamespaceLength = 63;

    /// <summary>The longest name.</summary>
    public const int MaxNameLength = 1024;

    private ObjectKey(string @namespace, string name)
    {
        Namespace = @namespace;
        Name = name;
    }

    /// <summary>The namespace: 1-63 characters of <c>[a-z0-9._-]</c>, starting with a letter or digit.</summary>
    public string Namespace { get; }

    /// <summary>The name: 1-1024 characters of valid Unicode, no control characters, no empty, <c>.</c> or <c>..</c> segments.</summary>
    public string Name { get; }

    /// <summary>The grain key, <c>namespace/name</c>.</summary>
    public string GrainKey => Namespace + "/" + Name;

    /// <summary>Checks and builds a key; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryCreate(string? @namespace, string? name, out ObjectKey key, [NotNullWhen(false)] out string? error)
    {
        key = default;
        if (!IsValidNamespace(@namespace))
        {
            error = $"Namespace '{@namespace}' is not valid: use 1-{MaxNamespaceLength} characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.";
            return false;
        }

        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            error = $"An object name has 1 to {MaxNameLength} characters.";
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                error = "An object name cannot contain control characters.";
                return false;
            }
        }

        if (!WellFormedText.IsWellFormed(name))
        {
            error = "An object name must be valid Unicode; it has a lone surrogate.";
            return false;
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                error = $"Object name '{name}' has an empty, '.' or '..' segment.";
                return false;
            }
        }

        key = new ObjectKey(@namespace, name);
        error = null;
        return true;
    }

    /// <summary>Whether a namespace is well formed.</summary>
    public static bool IsValidNamespace([NotNullWhen(true)] string? @namespace)
    {
        if (string.IsNullOrEmpty(@namespace) || @namespace.Length > MaxNamespaceLength || !char.IsAsciiLetterOrDigit(@namespace[0]))
        {
            return false;
        }

        foreach (var c in @namespace)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => GrainKey;
}
