using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Services;

/// <summary>One reason a manifest is refused.</summary>
/// <param name="Path">The JSON path of the offending value (<c>$.inputs[1].type</c>).</param>
/// <param name="Message">What is wrong, as a sentence fragment.</param>
public sealed record ManifestError(string Path, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Path + ": " + Message;
}

/// <summary>A manifest that breaks the schema; <see cref="Errors"/> lists every problem with its JSON path.</summary>
public sealed class ManifestValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errors">Every problem found.</param>
    public ManifestValidationException(IReadOnlyList<ManifestError> errors)
        : base("The manifest is not valid: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception.</summary>
    public ManifestValidationException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public ManifestValidationException(string message)
        : this([new ManifestError("$", message)])
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ManifestValidationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = [new ManifestError("$", message)];
    }

    /// <summary>Every problem found, in document order.</summary>
    public IReadOnlyList<ManifestError> Errors { get; } = [];
}

/// <summary>
/// Reads and validates <c>manifest.json</c>: every error comes back at once, each with its JSON path. Unknown
/// properties are errors (a misspelt field must not be silently ignored, and the signed canonical form holds every
/// field there is).
/// </summary>
public static partial class ManifestParser
{
    /// <summary>Largest manifest accepted, in bytes.</summary>
    public const int MaxManifestBytes = 256 * 1024;

    private const int MaxListItems = 64;
    private const int MaxTextLength = 256;
    private const int MaxDescriptionLength = 4096;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses and validates a manifest.</summary>
    /// <param name="utf8Json">The UTF-8 JSON.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ManifestValidationException">It is not valid; the exception lists why.</exception>
    public static ServiceManifest Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (TryParse(utf8Json, out var manifest, out var errors))
        {
            return manifest;
        }

        throw new ManifestValidationException(errors);
    }

    /// <summary>Parses and validates a manifest without throwing.</summary>
    /// <param name="utf8Json">The UTF-8 JSON.</param>
    /// <param name="manifest">The manifest, when valid.</param>
    /// <param name="errors">Every problem, when not.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ServiceManifest? manifest, out IReadOnlyList<ManifestError> errors)
    {
        manifest = null;
        if (utf8Json.Length > MaxManifestBytes)
        {
            errors = [new ManifestError("$", $"the manifest is {utf8Json.Length} bytes; at most {MaxManifestBytes} are accepted")];
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            errors = [new ManifestError("$", "not valid JSON: " + e.Message)];
            return false;
        }

        using (document)
        {
            var context = new Context();
            manifest = Read(document.RootElement, context);
            errors = context.Errors;
            if (context.Errors.Count > 0 || manifest is null)
            {
                manifest = null;
                return false;
            }

            return true;
        }
    }

    private static ServiceManifest? Read(JsonElement root, Context c)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            c.Add("$", "must be an object");
            return null;
        }

        c.CheckProperties(root, "$", [
            "packageId", "version", "serviceType", "author", "description", "runtimeRequired", "runtimeOptional",
            "deviceProfile", "resourceRequirements", "platformSupport", "capabilities", "httpAllowList", "inputs",
            "outputs", "files", "entry", "builtin",
        ]);

        var packageId = c.RequiredString(root, "$", "packageId");
        if (packageId is not null && (packageId.Length > 128 || !PackageIdPattern().IsMatch(packageId)))
        {
            c.Add("$.packageId", "must be a lower-case reverse-DNS id of at least two dot-separated parts (org.example.ocr), at most 128 characters");
        }

        var version = c.RequiredString(root, "$", "version");
        if (version is not null && (version.Length > 64 || !SemVerPattern().IsMatch(version)))
        {
            c.Add("$.version", $"'{version}' is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])");
        }

        var serviceType = c.RequiredString(root, "$", "serviceType");
        if (serviceType is not null)
        {
            c.OneOf("$.serviceType", serviceType, ServiceVocabulary.ServiceTypes);
        }

        var author = c.RequiredString(root, "$", "author");
        if (author is not null && !PublicIdentity.TryParseDid(author, out _))
        {
            c.Add("$.author", "must be the did:key of an Ed25519 key (did:key:z6Mk…)");
        }

        var description = c.OptionalString(root, "$", "description", MaxDescriptionLength) ?? string.Empty;

        var runtimeRequired = c.StringList(root, "$", "runtimeRequired", ServiceVocabulary.Runtimes, required: true);
        if (runtimeRequired is not null && !runtimeRequired.Contains(ServiceVocabulary.Wasm))
        {
            c.Add("$.runtimeRequired", "must contain \"wasm\"");
        }

        var runtimeOptional = c.StringList(root, "$", "runtimeOptional", ServiceVocabulary.EngineFeatures, required: false) ?? [];

        var deviceProfile = c.RequiredString(root, "$", "deviceProfile");
        if (deviceProfile is not null)
        {
            c.OneOf("$.deviceProfile", deviceProfile, ServiceVocabulary.DeviceProfiles);
        }

        var resources = ReadResources(root, c);
        var platforms = c.StringList(root, "$", "platformSupport", ServiceVocabulary.Platforms, required: true);
        var capabilities = c.StringList(root, "$", "capabilities", ServiceCapabilities.All, required: false) ?? [];
        var allowList = ReadAllowList(root, c, capabilities.Contains(ServiceCapabilities.Http));
        var inputs = ReadInputs(root, c);
        var outputs = ReadOutputs(root, c);
        var files = ReadFiles(root, c);
        var builtin = c.OptionalBool(root, "$", "builtin") ?? false;
        var entry = c.OptionalString(root, "$", "entry", MaxTextLength);
        if (builtin)
        {
            if (entry is not null)
            {
                c.Add("$.entry", "a builtin service has no entry module");
            }

            if (files.Count > 0)
            {
                c.Add("$.files", "a builtin service ships no files");
            }
        }
        else if (entry is null)
        {
            if (!root.TryGetProperty("entry", out _))
            {
                c.Add("$.entry", "is required (the module a task runs) unless the service is builtin");
            }
        }
        else if (!files.Any(f => f.Kind == ServiceFileKind.Module && f.Path == entry))
        {
            c.Add("$.entry", $"'{entry}' is not a module listed in files");
        }

        if (c.Errors.Count > 0)
        {
            return null;
        }

        return new ServiceManifest
        {
            PackageId = packageId!,
            Version = version!,
            ServiceType = serviceType!,
            Author = author!,
            Description = description,
            RuntimeRequired = runtimeRequired!,
            RuntimeOptional = runtimeOptional,
            DeviceProfile = deviceProfile!,
            ResourceRequirements = resources!,
            PlatformSupport = platforms!,
            Capabilities = capabilities,
            HttpAllowList = allowList,
            Inputs = inputs,
            Outputs = outputs,
            Files = files,
            Entry = entry,
            Builtin = builtin,
        };
    }

    private static ResourceRequirements? ReadResources(JsonElement root, Context c)
    {
        const string path = "$.resourceRequirements";
        if (!root.TryGetProperty("resourceRequirements", out var e))
        {
            c.Add(path, "is required");
            return null;
        }

        if (e.ValueKind != JsonValueKind.Object)
        {
            c.Add(path, "must be an object");
            return null;
        }

        c.CheckProperties(e, path, ["minMemoryMB", "maxMemoryMB", "estimatedCpuUsage", "storageRequiredMB", "requiresGPU"]);
        var min = c.RequiredInteger(e, path, "minMemoryMB", 1, 4096);
        var max = c.RequiredInteger(e, path, "maxMemoryMB", 1, 4096);
        if (min is not null && max is not null && max < min)
        {
            c.Add(path + ".maxMemoryMB", $"must be at least minMemoryMB ({min})");
        }

        var cpu = c.RequiredNumber(e, path, "estimatedCpuUsage", 0, 64);
        var storage = c.OptionalInteger(e, path, "storageRequiredMB", 0, 1 << 20) ?? 0;
        var gpu = c.OptionalBool(e, path, "requiresGPU") ?? false;
        return min is null || max is null || cpu is null
            ? null
            : new ResourceRequirements { MinMemoryMB = (int)min, MaxMemoryMB = (int)max, EstimatedCpuUsage = cpu.Value, StorageRequiredMB = (int)storage, RequiresGpu = gpu };
    }

    private static string[] ReadAllowList(JsonElement root, Context c, bool httpDeclared)
    {
        const string path = "$.httpAllowList";
        var list = c.StringList(root, "$", "httpAllowList", null, required: false) ?? [];
        if (httpDeclared && list.Length == 0)
        {
            c.Add(path, "must list at least one URL prefix when the http capability is declared");
        }
        else if (!httpDeclared && list.Length > 0)
        {
            c.Add(path, "is only allowed with the http capability");
        }

        for (var i = 0; i < list.Length; i++)
        {
            if (!Uri.TryCreate(list[i], UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.Query.Length > 0
                || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0 || !list[i].EndsWith('/'))
            {
                c.Add($"{path}[{i}]", "must be an https URL prefix ending in '/', without user info, query or fragment (https://api.example.org/v1/)");
            }
        }

        return list;
    }

    private static List<ServiceInput> ReadInputs(JsonElement root, Context c)
    {
        var result = new List<ServiceInput>();
        foreach (var (e, path) in c.Objects(root, "inputs"))
        {
            c.CheckProperties(e, path, ["name", "type", "required", "description", "minimum", "maximum", "maxLength", "fileTypes"]);
            var name = c.Name(e, path, result.Select(i => i.Name));
            var type = c.ValueType(e, path, ServiceValueTypes.All);
            var required = c.OptionalBool(e, path, "required") ?? true;
            var description = c.OptionalString(e, path, "description", MaxDescriptionLength) ?? string.Empty;
            var minimum = c.OptionalNumber(e, path, "minimum");
            var maximum = c.OptionalNumber(e, path, "maximum");
            var maxLength = c.OptionalInteger(e, path, "maxLength", 1, long.MaxValue);
            var fileTypes = c.StringList(e, path, "fileTypes", null, required: false) ?? [];
            for (var i = 0; i < fileTypes.Length; i++)
            {
                if (!ExtensionPattern().IsMatch(fileTypes[i]))
                {
                    c.Add($"{path}.fileTypes[{i}]", "must be a lower-case extension without the dot (png)");
                }
            }

            if ((minimum is not null || maximum is not null) && type is not (ServiceValueType.Number or ServiceValueType.Integer))
            {
                c.Add(path, "minimum and maximum apply to number and integer inputs only");
            }

            if (minimum is not null && maximum is not null && maximum < minimum)
            {
                c.Add(path + ".maximum", "must be at least minimum");
            }

            if (maxLength is not null && type is not (ServiceValueType.String or ServiceValueType.File or ServiceValueType.Json))
            {
                c.Add(path + ".maxLength", "applies to string, json and file inputs only");
            }

            if (fileTypes.Length > 0 && type != ServiceValueType.File)
            {
                c.Add(path + ".fileTypes", "applies to file inputs only");
            }

            if (name is not null && type is not null)
            {
                result.Add(new ServiceInput
                {
                    Name = name, Type = type.Value, Required = required, Description = description, Minimum = minimum, Maximum = maximum,
                    MaxLength = maxLength, FileTypes = fileTypes,
                });
            }
        }

        return result;
    }

    private static List<ServiceOutput> ReadOutputs(JsonElement root, Context c)
    {
        var result = new List<ServiceOutput>();
        foreach (var (e, path) in c.Objects(root, "outputs"))
        {
            c.CheckProperties(e, path, ["name", "type", "filenameFormat", "fileType", "description"]);
            var name = c.Name(e, path, result.Select(o => o.Name));
            var type = c.ValueType(e, path, [ServiceValueType.File, ServiceValueType.String, ServiceValueType.Json]);
            var format = c.OptionalString(e, path, "filenameFormat", OutputNameFormat.MaxLength + 1) ?? OutputNameFormat.Default;
            if (OutputNameFormat.Check(format) is { } problem)
            {
                c.Add(path + ".filenameFormat", problem);
            }

            var fileType = c.OptionalString(e, path, "fileType", 16) ?? DefaultExtension(type);
            if (!ExtensionPattern().IsMatch(fileType))
            {
                c.Add(path + ".fileType", "must be a lower-case extension without the dot (json)");
            }

            var description = c.OptionalString(e, path, "description", MaxDescriptionLength) ?? string.Empty;
            if (name is not null && type is not null)
            {
                result.Add(new ServiceOutput { Name = name, Type = type.Value, FilenameFormat = format, FileType = fileType, Description = description });
            }
        }

        return result;
    }

    private static string DefaultExtension(ServiceValueType? type) => type switch
    {
        ServiceValueType.String => "txt",
        ServiceValueType.Json => "json",
        _ => "bin",
    };

    private static List<ServiceFile> ReadFiles(JsonElement root, Context c)
    {
        var result = new List<ServiceFile>();
        foreach (var (e, path) in c.Objects(root, "files"))
        {
            c.CheckProperties(e, path, ["path", "kind"]);
            var filePath = c.RequiredString(e, path, "path");
            if (filePath is not null)
            {
                if (PackagePaths.Check(filePath) is { } problem)
                {
                    c.Add(path + ".path", problem);
                    filePath = null;
                }
                else if (PackagePaths.IsReserved(filePath))
                {
                    c.Add(path + ".path", $"'{filePath}' is reserved for the package itself");
                    filePath = null;
                }
                else if (result.Any(f => string.Equals(f.Path, filePath, StringComparison.OrdinalIgnoreCase)))
                {
                    c.Add(path + ".path", $"'{filePath}' is listed twice (paths are compared ignoring case)");
                    filePath = null;
                }
            }

            var kindText = c.RequiredString(e, path, "kind");
            ServiceFileKind? kind = kindText switch
            {
                "module" => ServiceFileKind.Module,
                "data" => ServiceFileKind.Data,
                null => null,
                _ => null,
            };
            if (kindText is not null && kind is null)
            {
                c.Add(path + ".kind", $"'{kindText}' is not one of: module, data");
            }

            if (filePath is not null && kind is not null)
            {
                result.Add(new ServiceFile(filePath, kind.Value));
            }
        }

        return result;
    }

    [GeneratedRegex(@"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:\.[a-z0-9]+(?:[-_][a-z0-9]+)*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex PackageIdPattern();

    // semver.org's recommended pattern.
    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$", RegexOptions.CultureInvariant)]
    internal static partial Regex SemVerPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]{1,16}$", RegexOptions.CultureInvariant)]
    private static partial Regex ExtensionPattern();

    private static class ServiceValueTypes
    {
        public static readonly ServiceValueType[] All = Enum.GetValues<ServiceValueType>();
    }

    /// <summary>Collects errors while reading.</summary>
    private sealed class Context
    {
        public List<ManifestError> Errors { get; } = [];

        public void Add(string path, string message) => Errors.Add(new ManifestError(path, message));

        public void CheckProperties(JsonElement e, string path, string[] known)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in e.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    Add(Child(path, property.Name), "appears twice");
                }
                else if (Array.IndexOf(known, property.Name) < 0)
                {
                    Add(Child(path, property.Name), "is not a manifest field");
                }
            }
        }

        public void OneOf(string path, string value, IReadOnlyList<string> allowed)
        {
            if (!allowed.Contains(value))
            {
                Add(path, $"'{value}' is not one of: {string.Join(", ", allowed)}");
            }
        }

        public string? RequiredString(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var value))
            {
                Add(Child(path, name), "is required");
                return null;
            }

            return StringValue(value, Child(path, name), MaxTextLength);
        }

        public string? OptionalString(JsonElement e, string path, string name, int maxLength) =>
            e.TryGetProperty(name, out var value) ? StringValue(value, Child(path, name), maxLength) : null;

        public bool? OptionalBool(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            Add(Child(path, name), "must be true or false");
            return null;
        }

        public long? RequiredInteger(JsonElement e, string path, string name, long min, long max)
        {
            if (!e.TryGetProperty(name, out _))
            {
                Add(Child(path, name), "is required");
                return null;
            }

            return OptionalInteger(e, path, name, min, max);
        }

        public long? OptionalInteger(JsonElement e, string path, string name, long min, long max)
        {
            if (!e.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
            {
                Add(Child(path, name), "must be a whole number");
                return null;
            }

            if (number < min || number > max)
            {
                Add(Child(path, name), string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max}"));
                return null;
            }

            return number;
        }

        public double? RequiredNumber(JsonElement e, string path, string name, double min, double max)
        {
            if (!e.TryGetProperty(name, out _))
            {
                Add(Child(path, name), "is required");
                return null;
            }

            var number = OptionalNumber(e, path, name);
            if (number is not null && (number < min || number > max))
            {
                Add(Child(path, name), string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max}"));
                return null;
            }

            return number;
        }

        public double? OptionalNumber(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Add(Child(path, name), "must be a finite number");
                return null;
            }

            return number;
        }

        public string[]? StringList(JsonElement e, string path, string name, IReadOnlyList<string>? allowed, bool required)
        {
            var listPath = Child(path, name);
            if (!e.TryGetProperty(name, out var value))
            {
                if (required)
                {
                    Add(listPath, "is required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                Add(listPath, "must be an array of strings");
                return null;
            }

            var count = value.GetArrayLength();
            if (count > MaxListItems)
            {
                Add(listPath, $"has {count} items; at most {MaxListItems} are accepted");
                return null;
            }

            if (required && count == 0)
            {
                Add(listPath, "must not be empty");
            }

            var result = new List<string>(count);
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                var itemPath = $"{listPath}[{i++}]";
                if (StringValue(item, itemPath, MaxTextLength) is not { } text)
                {
                    continue;
                }

                if (allowed is not null && !allowed.Contains(text))
                {
                    Add(itemPath, $"'{text}' is not one of: {string.Join(", ", allowed)}");
                }
                else if (result.Contains(text))
                {
                    Add(itemPath, $"'{text}' is listed twice");
                }
                else
                {
                    result.Add(text);
                }
            }

            return [.. result];
        }

        public IEnumerable<(JsonElement Element, string Path)> Objects(JsonElement root, string name)
        {
            var listPath = "$." + name;
            if (!root.TryGetProperty(name, out var value))
            {
                yield break;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                Add(listPath, "must be an array of objects");
                yield break;
            }

            if (value.GetArrayLength() > MaxListItems)
            {
                Add(listPath, $"has {value.GetArrayLength()} items; at most {MaxListItems} are accepted");
                yield break;
            }

            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                var itemPath = $"{listPath}[{i++}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    Add(itemPath, "must be an object");
                    continue;
                }

                yield return (item, itemPath);
            }
        }

        public string? Name(JsonElement e, string path, IEnumerable<string> taken)
        {
            var name = RequiredString(e, path, "name");
            if (name is null)
            {
                return null;
            }

            if (!NamePattern().IsMatch(name))
            {
                Add(path + ".name", $"'{name}' must match [a-z][a-z0-9_-]* (at most 64 characters)");
                return null;
            }

            if (taken.Contains(name))
            {
                Add(path + ".name", $"'{name}' is used twice");
                return null;
            }

            return name;
        }

        public ServiceValueType? ValueType(JsonElement e, string path, ServiceValueType[] allowed)
        {
            var text = RequiredString(e, path, "type");
            if (text is null)
            {
                return null;
            }

            foreach (var type in allowed)
            {
                if (ServiceValueTypeNames.Of(type) == text)
                {
                    return type;
                }
            }

            Add(path + ".type", $"'{text}' is not one of: {string.Join(", ", allowed.Select(ServiceValueTypeNames.Of))}");
            return null;
        }

        private string? StringValue(JsonElement value, string path, int maxLength)
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                Add(path, "must be a string");
                return null;
            }

            var text = value.GetString()!;
            if (text.Length > maxLength)
            {
                Add(path, $"is {text.Length} characters; at most {maxLength} are accepted");
                return null;
            }

            return text;
        }

        private static string Child(string path, string name) =>
            NamePattern().IsMatch(name) || char.IsAsciiLetter(name.FirstOrDefault()) && name.All(char.IsAsciiLetterOrDigit)
                ? path + "." + name
                : path + "['" + name.Replace("'", "\\'", StringComparison.Ordinal) + "']";
    }
}

/// <summary>The JSON names of <see cref="ServiceValueType"/>.</summary>
public static class ServiceValueTypeNames
{
    /// <summary>The name of a type as manifests write it.</summary>
    /// <param name="type">The type.</param>
    /// <returns>Its name.</returns>
    public static string Of(ServiceValueType type) => type switch
    {
        ServiceValueType.String => "string",
        ServiceValueType.Number => "number",
        ServiceValueType.Integer => "integer",
        ServiceValueType.Boolean => "boolean",
        ServiceValueType.Json => "json",
        ServiceValueType.File => "file",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
