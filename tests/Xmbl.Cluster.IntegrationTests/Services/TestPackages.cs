using Xmbl.Cluster.Services;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Services;

/// <summary>Signed service packages around the fixture modules, for the task tests.</summary>
internal static class TestPackages
{
    /// <summary>
    /// Version 1.0.0 of <paramref name="packageId"/> by the test account <paramref name="author"/>, running the fixture
    /// <paramref name="module"/>: input <c>text</c> (or <c>op</c>, <c>target</c>, <c>data</c> for the storage service),
    /// output <c>result</c> as a .txt file.
    /// </summary>
    public static byte[] Build(string author, string packageId, string module, string[] capabilities)
    {
        var key = TestAccounts.Key(author);
        var storage = module == "service_storage.wasm";
        var manifest = new ServiceManifest
        {
            PackageId = packageId,
            Version = "1.0.0",
            ServiceType = "utility",
            Author = key.PublicKey.Did,
            RuntimeRequired = ["wasm"],
            DeviceProfile = "budget",
            ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
            PlatformSupport = ["linux"],
            Capabilities = capabilities,
            Inputs = storage
                ? [new ServiceInput { Name = "op", Type = ServiceValueType.String }, new ServiceInput { Name = "target", Type = ServiceValueType.String }, new ServiceInput { Name = "data", Type = ServiceValueType.String, Required = false }]
                : [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String, FileType = "txt" }],
            Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
            Entry = "modules/main.wasm",
        };
        return PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = Jobs.JobsApi.Fixture(module) }, key);
    }
}
