using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Wasm.Engines.Managed;

namespace Xmbl.Cluster.Services.Tests;

/// <summary>Each trust tier gets only its capabilities; a module importing more is refused before it starts.</summary>
public sealed class CapabilityTests : IDisposable
{
    private readonly ManagedWasmEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static ServiceManifest Manifest(string input, params string[] capabilities) => Fixtures.Manifest(Fixtures.Author().PublicKey.Did) with
    {
        Inputs = [new ServiceInput { Name = input, Type = ServiceValueType.String }],
        Capabilities = capabilities,
        HttpAllowList = capabilities.Contains(ServiceCapabilities.Http) ? ["https://data.example.org/v1/"] : [],
    };

    private ServiceRunResult Run(string module, ServiceManifest manifest, string inputs, TrustTier tier, ServiceCapabilityProviders? providers = null)
    {
        using var document = JsonDocument.Parse(inputs);
        Assert.True(TaskInputs.TryCreate(manifest, document.RootElement, 1 << 20, out var taskInputs, out _));
        return ServiceRunner.Run(_engine, manifest, File.ReadAllBytes(Fixtures.Wasm(module)), taskInputs, new ServiceRunOptions(), tier, providers ?? new ServiceCapabilityProviders());
    }

    [Theory]
    [InlineData(TrustTier.Untrusted)]
    [InlineData(TrustTier.Trusted)]
    public void Logging_IsGrantedToEveryTier(TrustTier tier)
    {
        var result = Run("service_log", Manifest("text", ServiceCapabilities.Logging), """{"text":"hi"}""", tier);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(["got text", "hi"], result.Log);
    }

    [Fact]
    public void UndeclaredCapability_IsRefusedBeforeTheModuleStarts()
    {
        var result = Run("service_log", Manifest("text"), """{"text":"hi"}""", TrustTier.Trusted);

        Assert.False(result.Succeeded);
        Assert.Contains("xmbl.log (capability 'logging'), which the manifest does not declare", result.Refusal, StringComparison.Ordinal);
        Assert.Equal(0, result.FuelConsumed);
        Assert.Empty(result.Outputs);
    }

    [Fact]
    public void Http_IsRefusedToAnUntrustedPublisher()
    {
        var fetched = false;
        var providers = new ServiceCapabilityProviders { HttpGet = (_, _) => { fetched = true; return []; } };

        var result = Run("service_http", Manifest("url", ServiceCapabilities.Http), """{"url":"https://data.example.org/v1/a"}""", TrustTier.Untrusted, providers);

        Assert.False(result.Succeeded);
        Assert.Contains("which an untrusted publisher does not get", result.Refusal, StringComparison.Ordinal);
        Assert.False(fetched);
    }

    [Fact]
    public void Http_TrustedPublisher_FetchesWithinTheAllowList()
    {
        var providers = new ServiceCapabilityProviders { HttpGet = (uri, _) => Encoding.UTF8.GetBytes("body of " + uri.AbsolutePath) };

        var result = Run("service_http", Manifest("url", ServiceCapabilities.Http), """{"url":"https://data.example.org/v1/a"}""", TrustTier.Trusted, providers);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal("body of /v1/a", Encoding.UTF8.GetString(result.Outputs["result"]));
    }

    [Theory]
    [InlineData("https://data.example.org/v2/a")]
    [InlineData("https://evil.example.org/v1/a")]
    [InlineData("http://data.example.org/v1/a")]
    [InlineData("https://data.example.org.evil.net/v1/a")]
    public void Http_OutsideTheAllowList_IsNotFetched(string url)
    {
        var fetched = false;
        var providers = new ServiceCapabilityProviders { HttpGet = (_, _) => { fetched = true; return []; } };

        var result = Run("service_http", Manifest("url", ServiceCapabilities.Http), $$"""{"url":"{{url}}"}""", TrustTier.Trusted, providers);

        Assert.True(result.Succeeded);
        Assert.Equal("refused", Encoding.UTF8.GetString(result.Outputs["result"]));
        Assert.False(fetched);
    }

    [Fact]
    public void GrantedCapability_WithoutAProviderOnThisHost_IsRefusedWithTheReason()
    {
        var result = Run("service_http", Manifest("url", ServiceCapabilities.Http), """{"url":"https://data.example.org/v1/a"}""", TrustTier.Trusted);

        Assert.Equal("the capability 'http' is not available on this host", result.Refusal);
    }

    [Theory]
    [InlineData("env", "socket", "neither WASI preview1 nor a host capability")]
    [InlineData("xmbl", "spawn_process", "neither WASI preview1 nor a host capability")]
    [InlineData("xmbl", "storage_write", "'storage'), which the manifest does not declare")]
    public void Gate_RefusesUnknownOrUndeclaredImports(string module, string name, string reason)
    {
        var decision = CapabilityGate.Decide(Manifest("text", ServiceCapabilities.Logging), [("wasi_snapshot_preview1", "fd_write"), (module, name)], TrustTier.Trusted);

        Assert.False(decision.Allowed);
        Assert.Contains(reason, decision.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Gate_TrustedGetsEveryDeclaredCapabilityItImports()
    {
        var manifest = Manifest("text", ServiceCapabilities.Logging, ServiceCapabilities.Storage, ServiceCapabilities.Jobs, ServiceCapabilities.Http);

        var trusted = CapabilityGate.Decide(manifest, [("xmbl", "log"), ("xmbl", "storage_read"), ("xmbl", "run_module"), ("xmbl", "http_get")], TrustTier.Trusted);
        var untrusted = CapabilityGate.Decide(manifest, [("xmbl", "log"), ("xmbl", "run_module")], TrustTier.Untrusted);

        Assert.Equal(["http", "jobs", "logging", "storage"], trusted.Granted.Order(StringComparer.Ordinal));
        Assert.Contains("'jobs'", untrusted.Refusal, StringComparison.Ordinal);
    }
}

public sealed class TrustPolicyTests
{
    private static readonly HashSet<string> Publishers = ["did:a", "did:b", "did:c"];

    [Fact]
    public void TwoPublishersEndorsing_MakeTrusted() =>
        Assert.Equal(TrustTier.Trusted, TrustPolicy.Assess("did:c", ["did:a", "did:b"], Publishers.Contains, false, 2).Tier);

    [Fact]
    public void NonPublishersAndSelf_DoNotCount()
    {
        var trust = TrustPolicy.Assess("did:c", ["did:c", "did:x", "did:y", "did:a"], Publishers.Contains, false, 2);

        Assert.Equal(TrustTier.Untrusted, trust.Tier);
        Assert.Equal(["did:a"], trust.CountedEndorsers);
        Assert.Contains("2 make it trusted", trust.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OperatorTrust_NeedsNoEndorsement() =>
        Assert.Equal(TrustTier.Trusted, TrustPolicy.Assess("did:z", [], Publishers.Contains, true, 2).Tier);
}
