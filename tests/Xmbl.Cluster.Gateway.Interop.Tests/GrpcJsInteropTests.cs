using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Gateway.Interop.Tests;

/// <summary>@grpc/grpc-js, a client that is not ours, against a real silo process over h2c.</summary>
public sealed class GrpcJsInteropTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-grpc-interop");
    private SiloProcess? _silo;

    private SiloProcess Silo => _silo!;

    public async Task InitializeAsync()
    {
        _silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "3");
        // A job holds its maximum price from its submitter (escrow): the accounts that submit get credits first.
        await _silo.FundAsync();
        await _silo.FundAsync(TestAccounts.Did("other"));
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }

        _data.Dispose();
    }

    private JsonObject Args(bool signed = true)
    {
        var args = new JsonObject { ["address"] = Silo.GrpcAddress["http://".Length..] };
        if (signed)
        {
            args["seed"] = GrpcJsClient.Seed(TestAccounts.User);
        }

        return args;
    }

    [InteropFact]
    public async Task GrpcJs_UploadsSubmitsWatchesToValidatedAndReadsTheOutput()
    {
        var args = Args();
        args["module"] = Fixture("hello.wasm");

        var job = await GrpcJsClient.RunAsync("job", args);

        var statuses = job["statuses"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.Equal(["JOB_STATUS_PENDING", "JOB_STATUS_SCHEDULED", "JOB_STATUS_EXECUTED", "JOB_STATUS_VALIDATING", "JOB_STATUS_VALIDATED", "JOB_STATUS_SETTLED"], statuses);
        Assert.Equal("Hello, world!\n", job["output"]!.GetValue<string>());
        Assert.NotEqual(job["executor"]!.GetValue<string>(), Assert.Single(job["validators"]!.AsArray())!.GetValue<string>());

        // The same job through REST: one application layer, and the signing account is its submitter.
        using var rest = await Silo.Http.GetAsync(new Uri($"/api/jobs/{job["id"]!.GetValue<string>()}", UriKind.Relative));
        Assert.True(rest.IsSuccessStatusCode);
        var jobs = await Silo.GetJsonAsync($"/api/jobs?submitter={SiloProcess.UserDid}");
        Assert.Contains(jobs.GetProperty("items").EnumerateArray(), j => j.GetProperty("id").GetString() == job["id"]!.GetValue<string>());
    }

    [InteropFact]
    public async Task GrpcJs_Puts50MiBByClientStreamingAndGetsItBackByteIdenticalByServerStreaming()
    {
        var bytes = RandomNumberGenerator.GetBytes(50 << 20);
        var source = _data.File("source.bin");
        await File.WriteAllBytesAsync(source, bytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var put = Args();
        put["file"] = source;
        put["namespace"] = "docs";
        put["name"] = "big (1).bin";
        var info = await GrpcJsClient.RunAsync("put", put);
        Assert.Equal((50 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), info["size"]!.GetValue<string>());
        Assert.Equal(sha, info["sha256"]!.GetValue<string>());
        Assert.Equal(SiloProcess.UserDid, info["owner"]!.GetValue<string>());

        var get = Args(signed: false);
        get["file"] = _data.File("back.bin");
        get["namespace"] = "docs";
        get["name"] = "big (1).bin";
        var back = await GrpcJsClient.RunAsync("get", get);
        Assert.Equal(50 << 20, back["received"]!.GetValue<int>());
        Assert.Equal(sha, back["sha256"]!.GetValue<string>());
        var written = await File.ReadAllBytesAsync(_data.File("back.bin"));
        Assert.True(bytes.AsSpan().SequenceEqual(written));

        // REST sees the same object.
        using var head = await Silo.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/api/objects/docs/big%20(1).bin", UriKind.Relative)));
        Assert.Equal(sha, head.Headers.GetValues("X-Xmbl-Sha256").Single());
    }

    [InteropFact]
    public async Task GrpcJs_ErrorsArriveAsTheirStatusCodes()
    {
        var missing = Args(signed: false);
        missing["service"] = "Jobs";
        missing["method"] = "GetJob";
        missing["message"] = new JsonObject { ["id"] = "no-such-job" };
        var notFound = await GrpcJsClient.FailAsync("call", missing);
        Assert.Equal("NOT_FOUND", notFound.Code);
        Assert.Contains("no-such-job", notFound.Details, StringComparison.Ordinal);

        var bad = Args();
        bad["service"] = "Jobs";
        bad["method"] = "SubmitJob";
        bad["message"] = new JsonObject { ["module"] = new string('a', 64), ["limits"] = new JsonObject { ["fuel"] = "-5" } };
        var invalid = await GrpcJsClient.FailAsync("call", bad);
        Assert.Equal("INVALID_ARGUMENT", invalid.Code);
        Assert.Equal("limits.fuel", invalid.Trailer("xmbl-field"));

        var broke = Args(signed: false);
        broke["seed"] = GrpcJsClient.Seed("no-credits");
        broke["service"] = "Jobs";
        broke["method"] = "SubmitJob";
        broke["message"] = new JsonObject { ["module"] = await UploadAsync() };
        var unfunded = await GrpcJsClient.FailAsync("call", broke);
        Assert.Equal("FAILED_PRECONDITION", unfunded.Code);
        Assert.Equal("insufficient-funds", unfunded.Trailer("xmbl-reason"));

        var page = Args(signed: false);
        page["service"] = "Jobs";
        page["method"] = "ListJobs";
        page["message"] = new JsonObject { ["pageSize"] = 5000 };
        var paging = await GrpcJsClient.FailAsync("call", page);
        Assert.Equal("INVALID_ARGUMENT", paging.Code);
        Assert.Equal("page_size", paging.Trailer("xmbl-field"));
    }

    [InteropFact]
    public async Task GrpcJs_SignedCallsActAsTheSignerAndUnsignedOrTamperedChangesAreRefused()
    {
        var submit = new JsonObject { ["module"] = new string('0', 64) };
        var unsigned = Args(signed: false);
        unsigned["service"] = "Jobs";
        unsigned["method"] = "SubmitJob";
        unsigned["message"] = submit.DeepClone();
        var missing = await GrpcJsClient.FailAsync("call", unsigned);
        Assert.Equal("UNAUTHENTICATED", missing.Code);
        Assert.Equal("missing", missing.Trailer("xmbl-reason"));

        var tampered = Args();
        tampered["service"] = "Jobs";
        tampered["method"] = "CancelJob";
        tampered["message"] = new JsonObject { ["id"] = "job-b" };
        tampered["signedMessage"] = new JsonObject { ["id"] = "job-a" };
        var mismatch = await GrpcJsClient.FailAsync("tampered", tampered);
        Assert.Equal("UNAUTHENTICATED", mismatch.Code);
        Assert.Equal("body-mismatch", mismatch.Trailer("xmbl-reason"));

        // A signed job submitted by another account cannot be cancelled by this one: PERMISSION_DENIED.
        var hash = await UploadAsync();
        using var submitted = await Silo.As("other").PostAsync(new Uri("/api/jobs", UriKind.Relative), System.Net.Http.Json.JsonContent.Create(new { module = hash, validators = 0 }));
        var id = (await submitted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var cancel = Args();
        cancel["service"] = "Jobs";
        cancel["method"] = "CancelJob";
        cancel["message"] = new JsonObject { ["id"] = id };
        var denied = await GrpcJsClient.FailAsync("call", cancel);
        Assert.Equal("PERMISSION_DENIED", denied.Code);
        Assert.Contains(TestAccounts.Did("other"), denied.Details, StringComparison.Ordinal);
    }

    private async Task<string> UploadAsync()
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Fixture("hello.wasm")));
        using var response = await Silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), content);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["hash"]!.GetValue<string>();
    }

    /// <summary>A committed fixture from tests/fixtures/wasm.</summary>
    internal static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"Fixture {name} not found under tests/fixtures/wasm above {AppContext.BaseDirectory}.");
    }
}
