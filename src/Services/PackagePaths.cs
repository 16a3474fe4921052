namespace Xmbl.Cluster.Services;

/// <summary>Rules for paths inside a package: relative, <c>/</c>-separated, no <c>..</c>, no surprises.</summary>
public static class PackagePaths
{
    /// <summary>The manifest's entry name.</summary>
    public const string Manifest = "manifest.json";

    /// <summary>The signature's entry name.</summary>
    public const string Signature = "signature.json";

    /// <summary>Longest path accepted.</summary>
    public const int MaxLength = 200;

    /// <summary>Whether a path is one the package format keeps for itself.</summary>
    /// <param name="path">A checked path.</param>
    /// <returns>True for the manifest and the signature.</returns>
    public static bool IsReserved(string path) =>
        string.Equals(path, Manifest, StringComparison.OrdinalIgnoreCase) || string.Equals(path, Signature, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks a path; returns the problem, or null when it is acceptable.</summary>
    /// <param name="path">The path.</param>
    /// <returns>Why it is refused, or null.</returns>
    public static string? Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.Length > MaxLength)
        {
            return $"a package path is 1 to {MaxLength} characters";
        }

        if (path[0] == '/' || path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal))
        {
            return $"'{path}' must be relative and '/'-separated (no leading '/', no '\\', no drive)";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                return $"'{path}' has an empty, '.' or '..' segment";
            }

            if (segment[0] == '.')
            {
                return $"'{path}' has a hidden segment (starting with '.')";
            }

            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                {
                    return $"'{path}' has '{c}'; paths use ASCII letters, digits, '-', '_', '.' and '/'";
                }
            }
        }

        return null;
    }
}
