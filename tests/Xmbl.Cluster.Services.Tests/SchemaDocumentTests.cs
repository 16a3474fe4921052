using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Xmbl.Cluster.Services.Tests;

/// <summary>The JSON Schema published in docs/services.md agrees with the parser.</summary>
public sealed class SchemaDocumentTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "services.md"));
        var marker = text.IndexOf("<!-- manifest-schema -->", StringComparison.Ordinal);
        Assert.True(marker >= 0, "docs/services.md has no <!-- manifest-schema --> block");
        var start = text.IndexOf("```json", marker, StringComparison.Ordinal) + "```json".Length;
        var end = text.IndexOf("```", start, StringComparison.Ordinal);
        return JsonSchema.FromText(text[start..end]);
    });

    private static bool SchemaAccepts(JsonNode manifest) =>
        Schema.Value.Evaluate(JsonDocument.Parse(manifest.ToJsonString()).RootElement).IsValid;

    [Fact]
    public void SeedExample_PassesTheSchema() => Assert.True(SchemaAccepts(Fixtures.SeedExample()));

    [Fact]
    public void CanonicalForm_PassesTheSchema() =>
        Assert.True(SchemaAccepts(JsonNode.Parse(ManifestWriter.ToCanonicalJson(ManifestParser.Parse(Fixtures.SeedExampleBytes())))!));

    [Theory]
    [InlineData("version", "\"1.0\"")]
    [InlineData("serviceType", "\"WORKFLOW\"")]
    [InlineData("runtimeRequired", "[\"jvm\"]")]
    [InlineData("deviceProfile", "\"huge\"")]
    [InlineData("platformSupport", "[]")]
    [InlineData("capabilities", "[\"process\"]")]
    [InlineData("colour", "\"blue\"")]
    [InlineData("files", "[{\"path\":\"../x\",\"kind\":\"data\"}]")]
    [InlineData("outputs", "[{\"name\":\"r\",\"type\":\"number\"}]")]
    public void SchemaAndParser_RefuseTheSame(string field, string value)
    {
        var manifest = Fixtures.SeedExample();
        manifest[field] = JsonNode.Parse(value);

        Assert.False(SchemaAccepts(manifest));
        Assert.False(ManifestParser.TryParse(Fixtures.Utf8(manifest), out _, out _));
    }

    [Theory]
    [InlineData("packageId")]
    [InlineData("author")]
    [InlineData("resourceRequirements")]
    public void SchemaAndParser_RequireTheSame(string field)
    {
        var manifest = Fixtures.SeedExample();
        manifest.Remove(field);

        Assert.False(SchemaAccepts(manifest));
        Assert.False(ManifestParser.TryParse(Fixtures.Utf8(manifest), out _, out _));
    }
}
