using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Reads the body of <c>POST /api/jobs</c> into a <see cref="JobRequest"/>. Every field is checked for its JSON type, for
/// nulls where a value is needed, and (numbers) for the range of the type it becomes, before anything is converted; each
/// problem is reported under the field's path (<c>args[2]</c>, <c>env.HOME</c>, <c>limits.fuel</c>). A body with such
/// problems is refused here; the values' ranges and sizes are then checked by <see cref="JobService.SubmitAsync"/>.
/// </summary>
internal static class JobSubmission
{
    /// <summary>The fields of a job, as written in the JSON body (matched case-insensitively).</summary>
    public static readonly string[] Fields =
        ["module", "moduleBase64", "entry", "args", "env", "stdin", "stdinBase64", "limits", "maxPrice", "validators", "inputObjects", "outputObject"];

    // Same order as Fields, then the refused one.
    private enum Field { Module, ModuleBase64, Entry, Args, Env, Stdin, StdinBase64, Limits, MaxPrice, Validators, InputObjects, OutputObject, Submitter }

    private static readonly FrozenDictionary<string, Field> FieldIndex =
        Fields.Append("submitter").Select((name, i) => (name, (Field)i)).ToFrozenDictionary(f => f.name, f => f.Item2, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, int> LimitIndex =
        new[] { "fuel", "memoryPages", "wallTimeMs" }.Select((name, i) => (name, i)).ToFrozenDictionary(f => f.name, f => f.i, StringComparer.OrdinalIgnoreCase);

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>Parses <paramref name="body"/>; on failure returns null and <paramref name="problem"/> says why.</summary>
    /// <param name="body">The request body.</param>
    /// <param name="options">The limits that bound numbers.</param>
    /// <param name="account">The calling account: the job's submitter.</param>
    /// <param name="problem">The 400 answer when the body is refused.</param>
    /// <returns>The request, or null.</returns>
    public static JobRequest? Parse(ReadOnlyMemory<byte> body, ComputeOptions options, string account, out IResult? problem)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            problem = Problems.BadRequest(Describe(ex));
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = Problems.BadRequest($"Send the job as a JSON object, not {Kind(document.RootElement)}: {{\"module\": \"<sha256>\", \"args\": [], \"validators\": 1}}.");
                return null;
            }

            var reader = new Reader(options);
            var request = reader.Read(document.RootElement, account);
            if (reader.Errors.Count > 0)
            {
                problem = Results.ValidationProblem(
                    reader.Errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal),
                    detail: "The job request is invalid; errors names each field.");
                return null;
            }

            problem = null;
            return request;
        }
    }

    private static string Describe(JsonException ex)
    {
        // The reader's message ends with its own position suffix; it is replaced by a 1-based one.
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        }

        message = (cut > 0 ? message[..cut] : message).TrimEnd(' ', '|');
        var where = ex.LineNumber is { } line && ex.BytePositionInLine is { } position
            ? $" (line {line + 1}, byte {position + 1}{(string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : ", at " + ex.Path)})"
            : "";
        return $"The body is not valid JSON{where}: {message}";
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Shorten(string name) => name.Length <= 64 ? name : name[..64] + "…";

    /// <summary>Walks one body, collecting errors by path.</summary>
    private sealed class Reader(ComputeOptions options)
    {
        public Dictionary<string, List<string>> Errors { get; } = new(StringComparer.Ordinal);

        public JobRequest Read(JsonElement root, string account)
        {
            string? module = null, entry = null, outputObject = null;
            byte[]? moduleBytes = null, stdin = null, stdinBase64 = null;
            List<string>? args = null, inputObjects = null;
            List<KeyValuePair<string, string>>? env = null;
            long? fuel = null;
            int? memoryPages = null, validators = null;
            TimeSpan? wallTime = null;
            decimal? maxPrice = null;
            var seen = 0;
            foreach (var property in root.EnumerateObject())
            {
                if (!TryName(property, "", out var name))
                {
                    continue;
                }

                if (!FieldIndex.TryGetValue(name, out var field))
                {
                    Error(Shorten(name), $"is not a field of a job; the fields are {string.Join(", ", Fields)}");
                    continue;
                }

                // Exact repeats are refused by the parser; this catches the same field in another case.
                if ((seen & (1 << (int)field)) != 0)
                {
                    Error(name, "is given twice");
                    continue;
                }

                seen |= 1 << (int)field;
                var value = property.Value;
                switch (field)
                {
                    case Field.Module: module = Text(value, "module"); break;
                    case Field.ModuleBase64: moduleBytes = Base64(value, "moduleBase64", options.MaxModuleBytes); break;
                    case Field.Entry: entry = Text(value, "entry"); break;
                    case Field.Args: args = TextList(value, "args"); break;
                    case Field.Env: env = Env(value); break;
                    case Field.Stdin: stdin = Text(value, "stdin") is { } text ? Encoding.UTF8.GetBytes(text) : null; break;
                    case Field.StdinBase64: stdinBase64 = Base64(value, "stdinBase64", options.MaxStdinBytes); break;
                    case Field.Limits: (fuel, memoryPages, wallTime) = Limits(value); break;
                    case Field.MaxPrice: maxPrice = Price(value); break;
                    case Field.Validators: validators = (int?)Integer(value, "validators", int.MinValue, int.MaxValue, $"0, 1 or {JobSpec.MaxValidators}"); break;
                    case Field.InputObjects: inputObjects = TextList(value, "inputObjects"); break;
                    case Field.OutputObject: outputObject = Text(value, "outputObject"); break;
                    case Field.Submitter: Error("submitter", "is not accepted; the submitter is the account that signs the request"); break;
                }
            }

            if (stdin is not null && stdinBase64 is not null)
            {
                Error("stdin", "give stdin or stdinBase64, not both");
            }

            return new JobRequest(
                module, moduleBytes, entry, args, env, stdin ?? stdinBase64, fuel, memoryPages, wallTime, maxPrice, validators,
                inputObjects, outputObject, account);
        }

        private (long? Fuel, int? MemoryPages, TimeSpan? WallTime) Limits(JsonElement value)
        {
            if (!IsObject(value, "limits"))
            {
                return default;
            }

            long? fuel = null, memoryPages = null, wallTimeMs = null;
            var seen = 0;
            foreach (var property in value.EnumerateObject())
            {
                if (!TryName(property, "limits.", out var name))
                {
                    continue;
                }

                if (!LimitIndex.TryGetValue(name, out var limit))
                {
                    Error("limits." + Shorten(name), "is not a limit; the limits are fuel, memoryPages and wallTimeMs");
                    continue;
                }

                if ((seen & (1 << limit)) != 0)
                {
                    Error("limits." + name, "is given twice");
                    continue;
                }

                seen |= 1 << limit;
                switch (limit)
                {
                    case 0: fuel = Integer(property.Value, "limits.fuel", long.MinValue, long.MaxValue, $"an integer from 1 to {options.MaxFuel}"); break;
                    case 1: memoryPages = Integer(property.Value, "limits.memoryPages", int.MinValue, int.MaxValue, $"an integer from 1 to {options.MaxMemoryPages}"); break;
                    default:
                        // Checked against the limit before it becomes a TimeSpan, which overflows far below long.MaxValue.
                        var maxMs = (long)options.MaxWallTime.TotalMilliseconds;
                        wallTimeMs = Integer(property.Value, "limits.wallTimeMs", 1, maxMs, $"an integer from 1 to {maxMs} (milliseconds)");
                        break;
                }
            }

            return (fuel, (int?)memoryPages, wallTimeMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
        }

        private List<KeyValuePair<string, string>>? Env(JsonElement value)
        {
            if (!IsObject(value, "env"))
            {
                return null;
            }

            var env = new List<KeyValuePair<string, string>>();
            foreach (var property in value.EnumerateObject())
            {
                if (TryName(property, "env.", out var name) && Text(property.Value, "env." + Shorten(name), required: true) is { } text)
                {
                    env.Add(new(name, text));
                }
            }

            return env;
        }

        private List<string>? TextList(JsonElement value, string path)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                Error(path, $"must be an array of strings, not {Kind(value)}");
                return null;
            }

            var list = new List<string>(value.GetArrayLength());
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (Text(item, $"{path}[{i}]", required: true) is { } text)
                {
                    list.Add(text);
                }

                i++;
            }

            return list;
        }

        private string? Text(JsonElement value, string path, bool required = false)
        {
            if (value.ValueKind == JsonValueKind.Null && !required)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Error(path, $"must be a string, not {Kind(value)}");
                return null;
            }

            try
            {
                return value.GetString();
            }
            catch (InvalidOperationException)
            {
                Error(path, "is not valid text (invalid UTF-8 or a lone surrogate escape)");
                return null;
            }
        }

        private byte[]? Base64(JsonElement value, string path, int maxBytes)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Error(path, $"must be a base64 string, not {Kind(value)}");
                return null;
            }

            // Decoded straight from the UTF-8 body (which MaxJobRequestBytes bounds); text with line breaks, as base64
            // tools write it, takes the slower way through a string.
            if (!value.TryGetBytesFromBase64(out var decoded))
            {
                try
                {
                    decoded = Convert.FromBase64String(value.GetString()!);
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException)
                {
                    Error(path, "is not valid base64");
                    return null;
                }
            }

            if (decoded.Length > maxBytes)
            {
                Error(path, $"holds {decoded.Length} bytes; the limit is {maxBytes}");
                return null;
            }

            return decoded;
        }

        /// <summary>
        /// An integer that fits [<paramref name="min"/>, <paramref name="max"/>], the range of the type it becomes (the
        /// service checks the job's own limits, so that all errors are reported together); else an error saying
        /// <paramref name="expected"/>.
        /// </summary>
        private long? Integer(JsonElement value, string path, long min, long max, string expected)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max)
            {
                return number;
            }

            Error(path, $"must be {expected}");
            return null;
        }

        private decimal? Price(JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var price))
            {
                return price;
            }

            Error("maxPrice", $"must be a number from 0 to {decimal.MaxValue}");
            return null;
        }

        private bool IsObject(JsonElement value, string path)
        {
            if (value.ValueKind == JsonValueKind.Object)
            {
                return true;
            }

            if (value.ValueKind != JsonValueKind.Null)
            {
                Error(path, $"must be an object, not {Kind(value)}");
            }

            return false;
        }

        private bool TryName(JsonProperty property, string parent, out string name)
        {
            try
            {
                name = property.Name;
                return true;
            }
            catch (InvalidOperationException)
            {
                Error(parent.Length > 0 ? parent.TrimEnd('.') : "body", "has a property name that is not valid text");
                name = "";
                return false;
            }
        }

        private void Error(string path, string message)
        {
            if (!Errors.TryGetValue(path, out var list))
            {
                Errors[path] = list = [];
            }

            list.Add(message);
        }
    }
}
