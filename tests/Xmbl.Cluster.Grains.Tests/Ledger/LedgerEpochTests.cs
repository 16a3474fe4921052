using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Ledger;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

/// <summary>Epochs: a Merkle root over every stored balance, sealed at an interval, with inclusion proofs against it.</summary>
public sealed class LedgerEpochTests
{
    private const long Xmbl = 1_000_000;

    [Fact]
    public async Task ProofsOfTheLastEpoch_VerifyForEveryAccount_AndFailWithAnyByteChanged()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var accounts = Enumerable.Range(0, 13).Select(_ => LedgerSilo.NewAccount()).ToArray();
        for (var i = 0; i < accounts.Length; i++)
        {
            await silo.Ledger.FaucetAsync(accounts[i], (i + 1) * Xmbl);
        }

        for (var i = 1; i < accounts.Length; i += 2)
        {
            await silo.Ledger.TransferAsync(accounts[i], accounts[i - 1], Xmbl / 2, 1);
        }

        var epoch = await Epochs(silo).SealAsync();
        var epochs = silo.Services.GetRequiredService<LedgerEpochs>();

        Assert.Equal(1, epoch.Number);
        Assert.Equal(accounts.Length, epoch.Accounts);
        Assert.Equal(Enumerable.Range(1, accounts.Length).Sum(i => i * Xmbl), epoch.Total);
        var root = Convert.FromHexString(epoch.Root);
        foreach (var account in accounts)
        {
            var (provedEpoch, proof) = (await epochs.ProveAsync(account))!.Value;
            Assert.Equal(1, provedEpoch.Number);
            Assert.Equal((await silo.Ledger.GetAsync(account)).Balance, proof.Balance);
            var bytes = proof.ToBytes();
            Assert.True(BalanceProof.Verify(bytes, root));
            for (var i = 0; i < bytes.Length; i++)
            {
                var changed = (byte[])bytes.Clone();
                changed[i] ^= 0x01;
                Assert.False(BalanceProof.Verify(changed, root), $"{account}: byte {i} changed still verifies");
            }

            var otherRoot = (byte[])root.Clone();
            otherRoot[^1] ^= 0x80;
            Assert.False(BalanceProof.Verify(bytes, otherRoot));
        }

        Assert.Null(await epochs.ProveAsync(LedgerSilo.NewAccount()));
    }

    [Fact]
    public async Task SealIfDue_SealsOnceTheIntervalHasPassed_AndTheListPagesThroughTheRoots()
    {
        var time = new ManualTimeProvider();
        await using var silo = await LedgerSilo.StartAsync(new Dictionary<string, string?> { ["Xmbl:Ledger:EpochInterval"] = "00:05:00" }, time);
        var account = LedgerSilo.NewAccount();
        await silo.Ledger.FaucetAsync(account, 3 * Xmbl);
        var grain = Epochs(silo);

        var first = await grain.SealIfDueAsync();
        Assert.Equal(1, first!.Number);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await grain.SealIfDueAsync());
        await silo.Ledger.FaucetAsync(account, 2 * Xmbl);
        time.Advance(TimeSpan.FromMinutes(1));
        var second = await grain.SealIfDueAsync();

        Assert.Equal(2, second!.Number);
        Assert.NotEqual(first.Root, second.Root);
        Assert.Equal(5 * Xmbl, second.Total);
        var epochs = silo.Services.GetRequiredService<LedgerEpochs>();
        var (page1, next) = await epochs.ListAsync(0, 1);
        Assert.Equal([first], page1);
        var (page2, end) = await epochs.ListAsync(next!.Value, 1);
        Assert.Equal([second], page2);
        Assert.Null(end);
        Assert.Equal(second, await epochs.LatestAsync());
        var (_, proof) = (await epochs.ProveAsync(account))!.Value;
        Assert.Equal(5 * Xmbl, proof.Balance);
        Assert.True(proof.Verify(Convert.FromHexString(second.Root)));
    }

    [Fact]
    public void EpochInterval_AndEscrowCheckAfter_OutOfRange_StopTheSiloNamingTheKey()
    {
        var validator = new LedgerOptionsValidator();

        Assert.True(validator.Validate(null, new LedgerOptions()).Succeeded);
        Assert.Equal(TimeSpan.FromHours(1), new LedgerOptions().EpochInterval);
        var tooShort = validator.Validate(null, new LedgerOptions { EpochInterval = TimeSpan.FromSeconds(59), EscrowCheckAfter = TimeSpan.Zero });
        Assert.Contains(tooShort.Failures!, f => f.StartsWith("Xmbl:Ledger:EpochInterval must be from 1 minute", StringComparison.Ordinal));
        Assert.Contains(tooShort.Failures!, f => f.StartsWith("Xmbl:Ledger:EscrowCheckAfter must be from 1 second", StringComparison.Ordinal));
    }

    private static ILedgerEpochsGrain Epochs(LedgerSilo silo) =>
        silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ILedgerEpochsGrain>(ILedgerEpochsGrain.Key);
}
