namespace Xmbl.Cluster.Grains;

/// <summary>Checks that text is well-formed Unicode, so that it has exactly one UTF-8 form.</summary>
internal static class WellFormedText
{
    /// <summary>False when <paramref name="text"/> holds a lone surrogate (which UTF-8 cannot encode; encoders replace it silently).</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}
