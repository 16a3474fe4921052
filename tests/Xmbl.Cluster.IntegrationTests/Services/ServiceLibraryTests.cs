using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Services;

/// <summary>An embedded silo with the service library (three nodes, so packages are erasure-coded across nodes).</summary>
public sealed class ServiceSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-services");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "3", "--Xmbl:Services:TrustedPublishers:0", TestAccounts.Did("operator-trusted"));

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The library through a real silo: publish, query, retrieve, refuse, endorse.</summary>
[Trait("Suite", "Functional")]
public sealed class ServiceLibraryTests(ServiceSiloFixture fixture) : IClassFixture<ServiceSiloFixture>, IDisposable
{
    private readonly TempDirectory _files = new("xmbl-service-cli");

    private SiloProcess Silo => fixture.Silo;

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Cli_new_pack_publish_then_the_library_finds_and_serves_the_same_package()
    {
        Assert.Equal(0, (await RunAsync("dev.key", "service", "new", "shout", "--id", "org.example.shout", "--in", _files.Path)).Exit);
        var package = Path.Combine(_files.Path, "shout.meshsvc");
        Assert.Equal(0, (await RunAsync("dev.key", "service", "pack", Path.Combine(_files.Path, "shout"), "-o", package)).Exit);

        var publish = await RunAsync("dev.key", "service", "publish", package);
        var again = await RunAsync("dev.key", "service", "publish", package);

        Assert.True(publish.Exit == 0, publish.Err);
        using var published = JsonDocument.Parse(publish.Out);
        Assert.Equal("org.example.shout", published.RootElement.GetProperty("packageId").GetString());
        Assert.Equal("untrusted", published.RootElement.GetProperty("trust").GetProperty("tier").GetString());
        Assert.Equal(0, again.Exit);

        var query = await Silo.GetJsonAsync("/api/services?query=shout");
        var hit = Assert.Single(query.GetProperty("services").EnumerateArray());
        Assert.Equal("0.1.0", hit.GetProperty("version").GetString());
        Assert.Equal("result", hit.GetProperty("manifest").GetProperty("outputs")[0].GetProperty("name").GetString());

        var entry = await Silo.GetJsonAsync("/api/services/org.example.shout/0.1.0");
        var bytes = await Silo.Unsigned.GetByteArrayAsync(new Uri("/api/services/org.example.shout/0.1.0/package", UriKind.Relative));
        Assert.Equal(await File.ReadAllBytesAsync(package), bytes);
        Assert.Equal(PackageReader.Read(bytes).Sha256, entry.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task A_package_published_by_someone_other_than_its_author_is_forbidden()
    {
        var bytes = Package("author-a", "org.example.notmine");

        using var response = await Silo.As("thief").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(bytes));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("only its author may publish", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Silo.Unsigned.GetAsync(new Uri("/api/services/org.example.notmine/1.0.0", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("unsigned")]
    [InlineData("wrong-signer")]
    public async Task A_bad_package_is_refused_with_its_reason_and_nothing_is_listed(string reason)
    {
        var id = "org.example.bad" + reason.Replace("-", "", StringComparison.Ordinal);
        var good = Package("author-b", id);
        var bad = reason switch
        {
            "tampered" => Rewrite(good, "modules/main.wasm", [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x00]),
            "unsigned" => Rewrite(good, PackagePaths.Signature, null),
            _ => Rewrite(good, PackagePaths.Signature, PackageSignature.Sign(PackageReader.Read(good).Manifest, PackageReader.Read(good).Signature.Files, TestAccounts.Key("thief")).ToJson()),
        };

        using var response = await Silo.As("author-b").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(bad));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(reason, problem.RootElement.GetProperty("reason").GetString());
        Assert.Empty((await Silo.GetJsonAsync("/api/services?query=" + id)).GetProperty("services").EnumerateArray());
    }

    [Fact]
    public async Task Another_package_under_a_published_version_is_a_conflict()
    {
        var first = Package("author-c", "org.example.immutable");
        var second = Package("author-c", "org.example.immutable", description: "changed");
        Assert.Equal(HttpStatusCode.Created, (await Silo.As("author-c").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(first))).StatusCode);

        using var response = await Silo.As("author-c").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(second));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(PackageReader.Read(first).Sha256, (await Silo.GetJsonAsync("/api/services/org.example.immutable/1.0.0")).GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task The_library_namespace_is_readable_by_all_and_writable_by_nobody()
    {
        using var response = await Silo.As("vandal").PutAsync(new Uri("/api/objects/xmbl-services/org.example.x/1.0.0/evil.meshsvc", UriKind.Relative), new ByteArrayContent([1, 2, 3]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Endorsements_by_two_publishers_make_a_publisher_trusted_and_others_do_not_count()
    {
        foreach (var name in new[] { "pub-a", "pub-b", "pub-c" })
        {
            var publish = await Silo.As(name).PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(Package(name, "org.example." + name.Replace("-", "", StringComparison.Ordinal))));
            Assert.Equal(HttpStatusCode.Created, publish.StatusCode);
        }

        var target = TestAccounts.Did("pub-a");
        var self = await Endorse("pub-a", target);
        var byNobody = await Endorse("not-a-publisher", target);
        var byB = await Endorse("pub-b", target);
        var byC = await Endorse("pub-c", target);

        Assert.Equal(HttpStatusCode.BadRequest, self.Status);
        Assert.Equal("untrusted", byNobody.Json.GetProperty("tier").GetString());
        Assert.Empty(byNobody.Json.GetProperty("endorsedBy").EnumerateArray());
        Assert.Equal("untrusted", byB.Json.GetProperty("tier").GetString());
        Assert.Equal("trusted", byC.Json.GetProperty("tier").GetString());
        Assert.Equal(2, byC.Json.GetProperty("endorsedBy").GetArrayLength());
        var listed = await Silo.GetJsonAsync("/api/services/org.example.puba/1.0.0");
        Assert.Equal("trusted", listed.GetProperty("trust").GetProperty("tier").GetString());
        var publisher = await Silo.GetJsonAsync("/api/services/publishers/" + target);
        Assert.Equal(3, publisher.GetProperty("endorsers").GetArrayLength());
    }

    [Fact]
    public async Task A_publisher_the_operator_lists_is_trusted_without_endorsements()
    {
        var publish = await Silo.As("operator-trusted").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(Package("operator-trusted", "org.example.blessed")));

        Assert.Equal(HttpStatusCode.Created, publish.StatusCode);
        var entry = await Silo.GetJsonAsync("/api/services/org.example.blessed/1.0.0");
        Assert.Equal("trusted", entry.GetProperty("trust").GetProperty("tier").GetString());
        Assert.Equal("The operator trusts this publisher.", entry.GetProperty("trust").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Query_refuses_an_unknown_type()
    {
        using var response = await Silo.Unsigned.GetAsync(new Uri("/api/services?type=spaceship", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<(HttpStatusCode Status, JsonElement Json)> Endorse(string endorser, string publisher)
    {
        using var response = await Silo.As(endorser).PostAsJsonAsync(new Uri("/api/services/endorsements", UriKind.Relative), new { publisher });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    internal static byte[] Package(string author, string packageId, string description = "")
    {
        var key = TestAccounts.Key(author);
        var manifest = new ServiceManifest
        {
            PackageId = packageId,
            Version = "1.0.0",
            ServiceType = "utility",
            Author = key.PublicKey.Did,
            Description = description,
            RuntimeRequired = ["wasm"],
            DeviceProfile = "budget",
            ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
            PlatformSupport = ["linux"],
            Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String }],
            Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
            Entry = "modules/main.wasm",
        };
        return PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = Jobs.JobsApi.Fixture("service_upper.wasm") }, key);
    }

    private static byte[] Rewrite(byte[] package, string entryName, byte[]? replacement)
    {
        using var input = new ZipArchive(new MemoryStream(package), ZipArchiveMode.Read);
        using var buffer = new MemoryStream();
        using (var output = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                using var source = entry.Open();
                using var copy = new MemoryStream();
                source.CopyTo(copy);
                var bytes = entry.FullName == entryName ? replacement : copy.ToArray();
                if (bytes is not null)
                {
                    using var target = output.CreateEntry(entry.FullName).Open();
                    target.Write(bytes);
                }
            }
        }

        return buffer.ToArray();
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(string wallet, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var exit = await CliApplication.RunAsync(["--gateway", Silo.BaseAddress.ToString(), "--wallet", Path.Combine(_files.Path, wallet), .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
