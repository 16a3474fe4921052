namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>Resolves guest paths against a directory descriptor's path, the capability boundary.</summary>
internal static class WasiPath
{
    /// <summary>Longest guest path accepted, in UTF-16 chars (Linux PATH_MAX).</summary>
    public const int MaxLength = 4096;

    /// <summary>
    /// Joins <paramref name="relative"/> onto <paramref name="baseDirectory"/> (already normalized), resolving
    /// <c>.</c> and <c>..</c>. A <c>..</c> that would leave the base directory, or an absolute path, is refused
    /// with <see cref="WasiErrno.NotCapable"/>, as cap-std does: a descriptor grants its directory and below.
    /// </summary>
    public static WasiErrno Normalize(string baseDirectory, string relative, out string resolved)
    {
        resolved = string.Empty;
        if (relative.Length == 0)
        {
            return WasiErrno.NoEnt;
        }

        if (relative.Length > MaxLength)
        {
            return WasiErrno.NameTooLong;
        }

        if (relative.Contains('\0', StringComparison.Ordinal))
        {
            return WasiErrno.Inval;
        }

        if (relative[0] == '/')
        {
            return WasiErrno.NotCapable;
        }

        var segments = new List<string>();
        if (baseDirectory.Length != 0)
        {
            segments.AddRange(baseDirectory.Split('/'));
        }

        var floor = segments.Count;
        foreach (var segment in relative.Split('/'))
        {
            switch (segment)
            {
                case "":
                case ".":
                    continue;
                case "..":
                    if (segments.Count == floor)
                    {
                        return WasiErrno.NotCapable;
                    }

                    segments.RemoveAt(segments.Count - 1);
                    continue;
                default:
                    if (segment.Length > 255)
                    {
                        return WasiErrno.NameTooLong;
                    }

                    segments.Add(segment);
                    continue;
            }
        }

        resolved = string.Join('/', segments);
        return WasiErrno.Success;
    }
}
