using System.Text;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.Services.Tests;

public sealed class ManifestParserTests
{
    private static IReadOnlyList<ManifestError> Errors(JsonNode manifest)
    {
        Assert.False(ManifestParser.TryParse(Fixtures.Utf8(manifest), out _, out var errors));
        return errors;
    }

    private static void AssertError(JsonNode manifest, string path, string fragment)
    {
        var errors = Errors(manifest);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void SeedExample_Mapped_Validates()
    {
        var manifest = ManifestParser.Parse(Fixtures.SeedExampleBytes());

        Assert.Equal("org.example.workflowservice", manifest.PackageId);
        Assert.Equal("workflow", manifest.ServiceType);
        Assert.Equal(["wasm"], manifest.RuntimeRequired);
        Assert.Equal("flagship", manifest.DeviceProfile);
        Assert.Equal(32, manifest.ResourceRequirements.MinMemoryMB);
        Assert.Equal(128, manifest.ResourceRequirements.MaxMemoryMB);
        Assert.Equal(0.7, manifest.ResourceRequirements.EstimatedCpuUsage);
        Assert.Equal(20, manifest.ResourceRequirements.StorageRequiredMB);
        Assert.False(manifest.ResourceRequirements.RequiresGpu);
        Assert.Equal(["android", "linux"], manifest.PlatformSupport);
        Assert.Equal(Fixtures.Author().PublicKey.Did, manifest.Author);
    }

    [Fact]
    public void SeedExample_Unmapped_ReportsEveryDifferenceWithItsPath()
    {
        var seed = JsonNode.Parse("""
            {"packageId":"org.example.workflowservice","serviceType":"WORKFLOW","runtimeRequired":["jvm"],
             "runtimeOptional":["python","nodejs"],"deviceProfile":"flagship",
             "resourceRequirements":{"minMemoryMB":32,"maxMemoryMB":128,"estimatedCpuUsage":0.7,"storageRequiredMB":20,"requiresGPU":false},
             "platformSupport":["android","linux"]}
            """)!;

        var errors = Errors(seed).Select(e => e.Path).ToList();

        Assert.Equal(["$.version", "$.serviceType", "$.author", "$.runtimeRequired[0]", "$.runtimeRequired", "$.runtimeOptional[0]", "$.runtimeOptional[1]", "$.entry"], errors);
    }

    [Fact]
    public void Version_NotSemver_IsRefusedAtItsPath() =>
        AssertError(With(m => m["version"] = "1.0"), "$.version", "not a semantic version");

    [Theory]
    [InlineData("1.0.0-alpha.1+build.5")]
    [InlineData("10.20.30")]
    public void Version_Semver_IsAccepted(string version) =>
        Assert.True(ManifestParser.TryParse(Fixtures.Utf8(With(m => m["version"] = version)), out _, out _));

    [Fact]
    public void PackageId_NotReverseDns_IsRefused() =>
        AssertError(With(m => m["packageId"] = "Example"), "$.packageId", "reverse-DNS");

    [Fact]
    public void Author_NotDidKey_IsRefused() =>
        AssertError(With(m => m["author"] = "did:key:z6MkNotAKey"), "$.author", "did:key");

    [Fact]
    public void MaxMemory_BelowMin_IsRefused() =>
        AssertError(With(m => m["resourceRequirements"]!["maxMemoryMB"] = 16), "$.resourceRequirements.maxMemoryMB", "at least minMemoryMB (32)");

    [Fact]
    public void ResourceRequirements_Missing_IsRequired() =>
        AssertError(With(m => m.Remove("resourceRequirements")), "$.resourceRequirements", "is required");

    [Fact]
    public void UnknownField_IsRefusedNotIgnored() =>
        AssertError(With(m => m["colour"] = "blue"), "$.colour", "is not a manifest field");

    [Fact]
    public void NestedUnknownField_IsRefusedAtItsPath() =>
        AssertError(With(m => m["resourceRequirements"]!["gpuCount"] = 1), "$.resourceRequirements.gpuCount", "is not a manifest field");

    [Fact]
    public void InputType_Unknown_IsRefusedAtItsIndex() =>
        AssertError(
            With(m => m["inputs"] = new JsonArray(Input("a", "string"), Input("b", "blob"))),
            "$.inputs[1].type",
            "'blob' is not one of");

    [Fact]
    public void InputNames_Duplicate_AreRefused() =>
        AssertError(With(m => m["inputs"] = new JsonArray(Input("a", "string"), Input("a", "number"))), "$.inputs[1].name", "used twice");

    [Fact]
    public void MinimumOnStringInput_IsRefused() =>
        AssertError(With(m => m["inputs"] = new JsonArray(new JsonObject { ["name"] = "a", ["type"] = "string", ["minimum"] = 1 })), "$.inputs[0]", "number and integer inputs only");

    [Fact]
    public void OutputFormat_WithoutCounter_IsRefused() =>
        AssertError(
            With(m => m["outputs"] = new JsonArray(new JsonObject { ["name"] = "r", ["type"] = "file", ["filenameFormat"] = "{output}-{utc}" })),
            "$.outputs[0].filenameFormat",
            "{counter}");

    [Fact]
    public void OutputFormat_UnknownToken_IsRefused() =>
        AssertError(
            With(m => m["outputs"] = new JsonArray(new JsonObject { ["name"] = "r", ["type"] = "file", ["filenameFormat"] = "{user}-{counter}" })),
            "$.outputs[0].filenameFormat",
            "'{user}' is not a token");

    [Fact]
    public void OutputType_Number_IsRefused() =>
        AssertError(With(m => m["outputs"] = new JsonArray(Input("r", "number"))), "$.outputs[0].type", "'number' is not one of: file, string, json");

    [Theory]
    [InlineData("../evil.wasm")]
    [InlineData("/etc/passwd")]
    [InlineData("modules\\main.wasm")]
    [InlineData("c:/main.wasm")]
    [InlineData("modules/.hidden")]
    [InlineData("modules//main.wasm")]
    public void FilePath_Unsafe_IsRefused(string path) =>
        AssertError(With(m => m["files"] = new JsonArray(new JsonObject { ["path"] = path, ["kind"] = "data" })), "$.files[0].path", path);

    [Fact]
    public void FilePath_Reserved_IsRefused() =>
        AssertError(With(m => m["files"]!.AsArray().Add(new JsonObject { ["path"] = "signature.json", ["kind"] = "data" })), "$.files[1].path", "reserved");

    [Fact]
    public void Entry_NotAListedModule_IsRefused() =>
        AssertError(With(m => m["entry"] = "modules/other.wasm"), "$.entry", "not a module listed in files");

    [Fact]
    public void Http_WithoutAllowList_IsRefused() =>
        AssertError(With(m => m["capabilities"] = new JsonArray("http")), "$.httpAllowList", "at least one URL prefix");

    [Fact]
    public void AllowList_WithoutHttp_IsRefused() =>
        AssertError(With(m => m["httpAllowList"] = new JsonArray("https://example.org/")), "$.httpAllowList", "only allowed with the http capability");

    [Theory]
    [InlineData("http://example.org/")]
    [InlineData("https://example.org")]
    [InlineData("https://user@example.org/")]
    [InlineData("https://example.org/?q=1")]
    public void AllowList_NotAnHttpsPrefix_IsRefused(string prefix) =>
        AssertError(
            With(m =>
            {
                m["capabilities"] = new JsonArray("http");
                m["httpAllowList"] = new JsonArray(prefix);
            }),
            "$.httpAllowList[0]",
            "https URL prefix");

    [Fact]
    public void Capability_Unknown_IsRefused() =>
        AssertError(With(m => m["capabilities"] = new JsonArray("process")), "$.capabilities[0]", "'process' is not one of: logging, storage, jobs, http");

    [Fact]
    public void Builtin_WithFiles_IsRefused()
    {
        var errors = Errors(With(m => m["builtin"] = true)).Select(e => e.Path).ToList();

        Assert.Contains("$.entry", errors);
        Assert.Contains("$.files", errors);
    }

    [Fact]
    public void DuplicateProperty_IsRefused()
    {
        var json = Encoding.UTF8.GetString(Fixtures.SeedExampleBytes()).Replace("\"version\": \"1.0.0\",", "\"version\": \"1.0.0\", \"version\": \"2.0.0\",", StringComparison.Ordinal);

        Assert.False(ManifestParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var errors));
        Assert.Contains(errors, e => e.Path == "$.version" && e.Message == "appears twice");
    }

    [Fact]
    public void NotJson_IsOneErrorAtTheRoot()
    {
        Assert.False(ManifestParser.TryParse("{\"packageId\":"u8, out _, out var errors));

        Assert.Equal("$", Assert.Single(errors).Path);
    }

    [Fact]
    public void Oversized_IsRefusedBeforeParsing()
    {
        var big = new byte[ManifestParser.MaxManifestBytes + 1];

        Assert.False(ManifestParser.TryParse(big, out _, out var errors));
        Assert.Contains("at most", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeeplyNested_IsRefusedWithoutCrashing()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);

        Assert.False(ManifestParser.TryParse(Encoding.UTF8.GetBytes(deep), out _, out var errors));
        Assert.Equal("$", Assert.Single(errors).Path);
    }

    [Fact]
    public void Parse_Invalid_ThrowsWithEveryError()
    {
        var e = Assert.Throws<ManifestValidationException>(() => ManifestParser.Parse(Fixtures.Utf8(With(m =>
        {
            m["version"] = "x";
            m["deviceProfile"] = "supercomputer";
        }))));

        Assert.Equal(["$.version", "$.deviceProfile"], e.Errors.Select(x => x.Path));
    }

    [Fact]
    public void CanonicalForm_RoundTripsAndIgnoresLayout()
    {
        var original = ManifestParser.Parse(Fixtures.SeedExampleBytes());
        var canonical = ManifestWriter.ToCanonicalJson(original);
        var reparsed = ManifestParser.Parse(canonical);
        var relaidOut = ManifestParser.Parse(ManifestWriter.ToIndentedJson(original));

        Assert.Equal(canonical, ManifestWriter.ToCanonicalJson(reparsed));
        Assert.Equal(canonical, ManifestWriter.ToCanonicalJson(relaidOut));
        Assert.DoesNotContain((byte)' ', canonical.Where((_, i) => i < 20));
    }

    [Fact]
    public void CanonicalForm_DiffersWhenMeaningDiffers()
    {
        var a = ManifestWriter.ToCanonicalJson(ManifestParser.Parse(Fixtures.SeedExampleBytes()));
        var b = ManifestWriter.ToCanonicalJson(ManifestParser.Parse(Fixtures.Utf8(With(m => m["resourceRequirements"]!["maxMemoryMB"] = 129))));

        Assert.NotEqual(a, b);
    }

    private static JsonObject Input(string name, string type) => new() { ["name"] = name, ["type"] = type };

    private static JsonObject With(Action<JsonObject> change)
    {
        var manifest = Fixtures.SeedExample();
        change(manifest);
        return manifest;
    }
}
