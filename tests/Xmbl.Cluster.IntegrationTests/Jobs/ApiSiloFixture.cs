using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>One embedded silo with the default limits, and hello.wasm uploaded, for tests that only talk to the API.</summary>
public sealed class ApiSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-api");

    public SiloProcess Silo { get; private set; } = null!;

    public string Hello { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        Hello = await JobsApi.UploadAsync(Silo, "hello.wasm");
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}
