using System.Text;
using System.Text.Json;

namespace Xmbl.Cluster.Services.Tests;

public sealed class TaskInputsTests
{
    private static readonly ServiceManifest Manifest = Fixtures.Manifest(Fixtures.Author().PublicKey.Did) with
    {
        Inputs =
        [
            new ServiceInput { Name = "text", Type = ServiceValueType.String, MaxLength = 5 },
            new ServiceInput { Name = "count", Type = ServiceValueType.Integer, Required = false, Minimum = 1, Maximum = 10 },
            new ServiceInput { Name = "photo", Type = ServiceValueType.File, Required = false, FileTypes = ["png"], MaxLength = 4 },
            new ServiceInput { Name = "options", Type = ServiceValueType.Json, Required = false },
        ],
    };

    private static IReadOnlyList<ManifestError> Refused(string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.False(TaskInputs.TryCreate(Manifest, document.RootElement, 1 << 20, out _, out var errors));
        return errors;
    }

    [Fact]
    public void ValidInputs_BecomeFilesAndAStdinObject()
    {
        using var document = JsonDocument.Parse("""{"text":"hi","count":3,"photo":{"name":"a.PNG","base64":"AQID"},"options":{"x":[1]}}""");

        Assert.True(TaskInputs.TryCreate(Manifest, document.RootElement, 1 << 20, out var inputs, out _));
        Assert.Equal("hi", Encoding.UTF8.GetString(inputs.Files["text"]));
        Assert.Equal("3", Encoding.UTF8.GetString(inputs.Files["count"]));
        Assert.Equal([1, 2, 3], inputs.Files["photo"]);
        Assert.Equal("""{"text":"hi","count":3,"options":{"x":[1]}}""", Encoding.UTF8.GetString(inputs.Stdin));
    }

    [Fact]
    public void EveryProblem_IsReportedWithItsPath()
    {
        var errors = Refused("""{"count":11,"photo":{"name":"a.gif","base64":"AQID"},"colour":"red"}""");

        Assert.Equal(["$.inputs.count", "$.inputs.photo.name", "$.inputs.colour", "$.inputs.text"], errors.Select(e => e.Path));
    }

    [Theory]
    [InlineData("""{"text":"toolong"}""", "at most 5")]
    [InlineData("""{"text":5}""", "must be a string")]
    [InlineData("""{"text":"a","count":1.5}""", "whole number")]
    [InlineData("""{"text":"a","photo":"AQID"}""", "must be a file")]
    [InlineData("""{"text":"a","photo":{"name":"a.png","base64":"!!"}}""", "not base64")]
    [InlineData("""{"text":"a","photo":{"name":"a.png","base64":"AQIDBAU="}}""", "5 bytes")]
    [InlineData("""[1]""", "must be an object")]
    public void BadInput_IsRefused(string json, string fragment) =>
        Assert.Contains(Refused(json), e => e.Message.Contains(fragment, StringComparison.Ordinal));

    [Fact]
    public void TotalOverTheLimit_IsRefused()
    {
        using var document = JsonDocument.Parse("""{"text":"abcde"}""");

        Assert.False(TaskInputs.TryCreate(Manifest, document.RootElement, 10, out _, out var errors));
        Assert.Contains("at most 10", Assert.Single(errors).Message, StringComparison.Ordinal);
    }
}
