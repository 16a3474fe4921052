using System.Text;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Services.Tests;

/// <summary>Test manifests, keys and packages.</summary>
internal static class Fixtures
{
    // RFC 8032 test 1: the seed example's author is this key's did:key.
    public static readonly byte[] AuthorSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "services", name);

    public static string Wasm(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "wasm", name + ".wasm");

    public static byte[] SeedExampleBytes() => File.ReadAllBytes(Path("seed-example.manifest.json"));

    public static JsonObject SeedExample() => JsonNode.Parse(SeedExampleBytes())!.AsObject();

    public static byte[] Utf8(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    public static Ed25519KeyPair Author() => Ed25519KeyPair.FromSeed(AuthorSeed);

    // A minimal valid module: magic and version only.
    public static readonly byte[] EmptyModule = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

    public static ServiceManifest Manifest(string author, params ServiceFile[] extraFiles) => new()
    {
        PackageId = "org.example.echo",
        Version = "1.2.3",
        ServiceType = "utility",
        Author = author,
        RuntimeRequired = ["wasm"],
        DeviceProfile = "budget",
        ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
        PlatformSupport = ["linux"],
        Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module), .. extraFiles],
        Entry = "modules/main.wasm",
        Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
        Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String }],
    };

    public static byte[] Package(Ed25519KeyPair key, byte[]? data = null)
    {
        var files = new Dictionary<string, byte[]> { ["modules/main.wasm"] = EmptyModule };
        ServiceManifest manifest;
        if (data is null)
        {
            manifest = Manifest(key.PublicKey.Did);
        }
        else
        {
            manifest = Manifest(key.PublicKey.Did, new ServiceFile("data/table.bin", ServiceFileKind.Data));
            files["data/table.bin"] = data;
        }

        return PackageWriter.Write(manifest, files, key);
    }
}
