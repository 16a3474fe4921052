using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "Functional")]
[Collection(nameof(DataPathAllocationTests))]
public sealed class DataPathAllocationTests
{
    [Fact]
    public async Task Transfer_Of64MiB_AllocatesNoBufferPerFrame()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        await using var server = new P2PHost(serverKey);
        server.Handle("/discard/1.0.0", async (stream, _, ct) =>
        {
            while (true)
            {
                var result = await stream.Input.ReadAsync(ct);
                stream.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            await stream.WriteAsync(new byte[1], ct);
        });
        var address = await server.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        await using var client = new P2PHost(clientKey);
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        var chunk = new byte[64 * 1024];

        async Task SendAsync(int mib)
        {
            await using var stream = await connection.OpenStreamAsync("/discard/1.0.0", CancellationToken.None);
            for (var i = 0; i < mib * 16; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.CloseWriteAsync();
            await stream.ReadExactlyAsync(new byte[1]);
        }

        await SendAsync(8); // warm up: JIT, pools, pipe segments
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await SendAsync(64);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // 1,024 writes of 64 KiB become 1,024 yamux frames and about 1,025 full Noise frames on each side; both hosts run in
        // this process, so this counts sender and receiver. What remains (0.9-3.6 KiB per write measured) is the shared
        // array pool dropping and re-creating pipe segments under this many in flight; a copy or a buffer per frame
        // would cost 64 KiB per write.
        var perWrite = allocated / 1024.0;
        Assert.True(perWrite < 8 * 1024, $"{allocated} bytes allocated for 64 MiB ({perWrite:0} per 64 KiB write).");
    }
}

/// <summary>Runs the allocation test alone: it counts the whole process's allocations, so parallel tests would add theirs.</summary>
[CollectionDefinition(nameof(DataPathAllocationTests), DisableParallelization = true)]
public sealed class DataPathAllocationCollection;
