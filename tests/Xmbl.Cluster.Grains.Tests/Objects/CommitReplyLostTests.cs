using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Tests.Jobs;
using static Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions;

namespace Xmbl.Cluster.Grains.Tests.Objects;

/// <summary>A commit whose reply is lost after the manifest was stored, as when the object grain's silo dies right after the write.</summary>
[Trait("Suite", "Functional")]
public sealed class CommitReplyLostTests
{
    [Fact]
    public async Task Put_CommitStoredButItsReplyLost_TheWriteStands_AndTheObjectReadsBack()
    {
        var lose = new LoseCommitReply();
        await using var silo = await ComputeSilo.StartAsync(
            nodes: 5,
            new Dictionary<string, string?> { ["Xmbl:Storage:ShardSize"] = "4096", ["Xmbl:Storage:RepairPeriod"] = "00:00:00" },
            services: s => s.AddSingleton<IIncomingGrainCallFilter>(lose));
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var data = TestBytes(30_000);

        lose.Armed = true;
        var version = await objects.PutBytesAsync("lost", "reply", data);

        Assert.False(lose.Armed, "the commit's reply was not lost");
        Assert.Equal(version.VersionId, (await objects.GetAsync(Key("lost", "reply")))!.VersionId);
        Assert.Equal(data, await objects.ReadBytesAsync("lost", "reply"));
    }

    [Fact]
    public async Task Put_CommitRefusedBeforeItWasStored_UndoesTheWrite()
    {
        var fail = new LoseCommitReply { BeforeCommit = true };
        await using var silo = await ComputeSilo.StartAsync(
            nodes: 5,
            new Dictionary<string, string?> { ["Xmbl:Storage:ShardSize"] = "4096", ["Xmbl:Storage:RepairPeriod"] = "00:00:00" },
            services: s => s.AddSingleton<IIncomingGrainCallFilter>(fail));
        var objects = silo.Services.GetRequiredService<ObjectService>();

        fail.Armed = true;
        await Assert.ThrowsAsync<SiloUnavailableException>(() => objects.PutBytesAsync("lost", "refused", TestBytes(30_000)));

        Assert.Null(await objects.GetAsync(Key("lost", "refused")));
        Assert.Equal(new StorageUsage(0, 0), await objects.UsageAsync(StorageUsageGrain.NamespaceKey("lost")));
    }

    /// <summary>Once armed, fails the next <see cref="IObjectGrain.CommitAsync"/> after (or before) the grain ran it.</summary>
    private sealed class LoseCommitReply : IIncomingGrainCallFilter
    {
        public volatile bool Armed;

        public bool BeforeCommit { get; init; }

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            var lose = Armed && context.InterfaceMethod?.Name == nameof(IObjectGrain.CommitAsync);
            if (lose)
            {
                Armed = false;
                if (BeforeCommit)
                {
                    throw new SiloUnavailableException("the target silo became unavailable (test)");
                }
            }

            await context.Invoke();
            if (lose)
            {
                throw new SiloUnavailableException("the target silo became unavailable (test)");
            }
        }
    }
}
