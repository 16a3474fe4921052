using System.Globalization;
using System.Text;

namespace Xmbl.Cluster.Services;

/// <summary>
/// An output's stored-name format: literal text with the tokens <c>{output}</c>, <c>{task}</c>, <c>{utc}</c>
/// (<c>yyyyMMddTHHmmssfffZ</c>), <c>{counter}</c> (6 digits) and <c>{ext}</c>. <c>{counter}</c> is required, so
/// two names made by one writer never collide; <c>{utc}</c> keeps them apart across writers and restarts.
/// </summary>
public static class OutputNameFormat
{
    /// <summary>The format used when a manifest gives none.</summary>
    public const string Default = "{output}-{utc}-{counter}.{ext}";

    /// <summary>Longest format accepted.</summary>
    public const int MaxLength = 128;

    private static readonly string[] Tokens = ["{output}", "{task}", "{utc}", "{counter}", "{ext}"];

    /// <summary>Checks a format; returns the problem, or null when it is valid.</summary>
    /// <param name="format">The format.</param>
    /// <returns>Why it is not valid, or null.</returns>
    public static string? Check(string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (format.Length == 0 || format.Length > MaxLength)
        {
            return $"must be 1 to {MaxLength} characters";
        }

        var hasCounter = false;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '{')
            {
                var end = format.IndexOf('}', i);
                var token = end < 0 ? format[i..] : format[i..(end + 1)];
                if (Array.IndexOf(Tokens, token) < 0)
                {
                    return $"'{token}' is not a token; use {string.Join(", ", Tokens)}";
                }

                hasCounter |= token == "{counter}";
                i = end;
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return $"'{c}' is not allowed; literal text is ASCII letters, digits, '-', '_' and '.'";
            }
        }

        if (!hasCounter)
        {
            return "must contain {counter}, so names never collide";
        }

        return format[0] == '.' ? "must not start with '.'" : null;
    }

    /// <summary>Formats a name.</summary>
    /// <param name="format">A format <see cref="Check"/> accepted.</param>
    /// <param name="output">The output name.</param>
    /// <param name="task">The task id.</param>
    /// <param name="utc">The time the task finished.</param>
    /// <param name="counter">The writer's counter for this output.</param>
    /// <param name="extension">The extension.</param>
    /// <returns>The name.</returns>
    public static string Format(string format, string output, string task, DateTimeOffset utc, long counter, string extension)
    {
        ArgumentNullException.ThrowIfNull(format);
        var builder = new StringBuilder(format.Length + 48);
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '{')
            {
                builder.Append(format[i]);
                continue;
            }

            var end = format.IndexOf('}', i);
            switch (format[i..(end + 1)])
            {
                case "{output}": builder.Append(output); break;
                case "{task}": builder.Append(task); break;
                case "{utc}": builder.Append(utc.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)); break;
                case "{counter}": builder.Append(counter.ToString("D6", CultureInfo.InvariantCulture)); break;
                case "{ext}": builder.Append(extension); break;
                default: throw new FormatException($"'{format}' is not a checked output name format.");
            }

            i = end;
        }

        return builder.ToString();
    }
}
