using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Wasm.Engines.Managed;

namespace Xmbl.Cluster.Services.Tests;

/// <summary>The bytes a task's proof covers: canonical, complete, and read back exactly.</summary>
public sealed class TaskOutputBundleTests : IDisposable
{
    private readonly ManagedWasmEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static Dictionary<string, byte[]> Map(params (string Name, string Text)[] entries) =>
        entries.ToDictionary(e => e.Name, e => Encoding.UTF8.GetBytes(e.Text), StringComparer.Ordinal);

    [Fact]
    public void SameContents_InAnyInsertionOrder_GiveTheSameBytes_AndDecodeBack()
    {
        var a = new TaskOutputBundle("log"u8.ToArray(), Map(("b", "2"), ("a", "1")), Map(("svc-x/k", "v"))).Encode();
        var b = new TaskOutputBundle("log"u8.ToArray(), Map(("a", "1"), ("b", "2")), Map(("svc-x/k", "v"))).Encode();

        Assert.Equal(a, b);
        Assert.True(TaskOutputBundle.TryDecode(a, out var decoded));
        Assert.Equal("log", Encoding.UTF8.GetString(decoded.Stdout));
        Assert.Equal(["a", "b"], decoded.Files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("2", Encoding.UTF8.GetString(decoded.Files["b"]));
        Assert.Equal("v", Encoding.UTF8.GetString(decoded.StorageWrites["svc-x/k"]));
    }

    [Fact]
    public void A_changed_file_a_missing_file_or_a_changed_write_changes_the_bytes_the_proof_hashes()
    {
        var original = new TaskOutputBundle([], Map(("result", "HELLO")), Map()).Encode();

        Assert.NotEqual(original, new TaskOutputBundle([], Map(("result", "HELLO!")), Map()).Encode());
        Assert.NotEqual(original, new TaskOutputBundle([], Map(), Map()).Encode());
        Assert.NotEqual(original, new TaskOutputBundle([], Map(("result", "HELLO")), Map(("svc-x/k", "v"))).Encode());
        // A file renamed to a storage write is not the same bundle either.
        Assert.NotEqual(new TaskOutputBundle([], Map(("k", "v")), Map()).Encode(), new TaskOutputBundle([], Map(), Map(("k", "v"))).Encode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("XMBLTO1\n")]
    [InlineData("XMBLTO1\n\u0005\0\0\0ab")]
    [InlineData("not a bundle at all")]
    public void Truncated_or_foreign_bytes_are_not_a_bundle(string text)
    {
        Assert.False(TaskOutputBundle.TryDecode(Encoding.Latin1.GetBytes(text), out _));
    }

    [Fact]
    public void Trailing_bytes_are_not_a_bundle()
    {
        var bytes = new TaskOutputBundle([], Map(("a", "1")), Map()).Encode();

        Assert.False(TaskOutputBundle.TryDecode([.. bytes, 0], out _));
    }

    [Fact]
    public void A_run_reports_every_file_it_left_under_output_and_CheckOutputs_judges_them_like_the_run()
    {
        var manifest = Fixtures.Manifest(Fixtures.Author().PublicKey.Did) with
        {
            Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "other", Type = ServiceValueType.File }],
        };
        using var document = JsonDocument.Parse("""{"text":"abc"}""");
        Assert.True(TaskInputs.TryCreate(manifest, document.RootElement, 1 << 20, out var inputs, out _));

        var result = ServiceRunner.Run(_engine, manifest, File.ReadAllBytes(Fixtures.Wasm("service_upper")), inputs, new ServiceRunOptions());

        Assert.Equal("ABC", Encoding.UTF8.GetString(result.Files!["result"]));
        Assert.Equal(result.Problems, ServiceRunner.CheckOutputs(manifest, result.Files));
        Assert.Contains("the module wrote /output/result, which is not an output in the manifest", ServiceRunner.CheckOutputs(manifest, result.Files));
    }
}
