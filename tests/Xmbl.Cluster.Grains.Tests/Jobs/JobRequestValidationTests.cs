using Xmbl.Cluster.Grains.Jobs;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary><see cref="JobService.SubmitAsync"/> checks every field of a request, whoever builds it, before anything is stored.</summary>
public sealed class JobRequestValidationTests
{
    [Fact]
    public async Task NullsAndBadText_AreRefusedByPath()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var hello = (await silo.Modules.AddAsync(ComputeSilo.Fixture("hello.wasm"))).Hash;

        var ex = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(
            hello,
            Args: ["ok", null!, "nul\0inside", "lone\ud800"],
            Env: [new("A", null!), new("B=C", "x"), new("D", "d"), new("D", "again")],
            InputObjects: [null!])));

        Assert.Equal(
            ["args[1]", "args[2]", "args[3]", "env", "env.A", "inputObjects[0]"],
            ex.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public async Task RepeatedVariable_IsRefused_WhateverTheCount(int count)
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var hello = (await silo.Modules.AddAsync(ComputeSilo.Fixture("hello.wasm"))).Hash;
        List<KeyValuePair<string, string>> env = [.. Enumerable.Range(0, count).Select(i => new KeyValuePair<string, string>($"V{i}", "x")), new("V1", "again")];

        var ex = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(hello, Env: env)));

        Assert.Contains("'V1' is given twice", Assert.Single(ex.Errors["env"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SizesOverTheConfiguredLimits_AreRefusedNamingTheField()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, new Dictionary<string, string?>
        {
            ["Xmbl:Compute:MaxArgs"] = "2",
            ["Xmbl:Compute:MaxEnvBytes"] = "10",
            ["Xmbl:Compute:MaxEntryLength"] = "8",
        });
        var hello = (await silo.Modules.AddAsync(ComputeSilo.Fixture("hello.wasm"))).Hash;

        var ex = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(
            hello, Entry: "much_too_long", Args: ["1", "2", "3"], Env: [new("NAME", "valuevalue")])));

        Assert.Equal(["args", "entry", "env"], ex.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("the limit is 2", ex.Errors["args"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedRequest_DoesNotStoreItsInlineModule()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var bytes = ComputeSilo.Fixture("hello.wasm");
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

        await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(null, ModuleBytes: bytes, Args: [null!])));

        Assert.Null(await silo.Modules.GetInfoAsync(hash));
    }
}
