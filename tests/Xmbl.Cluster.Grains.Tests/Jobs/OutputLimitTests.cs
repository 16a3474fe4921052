using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "Functional")]
public sealed class OutputLimitTests
{
    [Theory]
    [InlineData("wasmtime")]
    [InlineData("managed")]
    public async Task ProgramThatKeepsWritingPastTheCap_EndsAtTheCapAsOutputLimitExceeded_ValidatedLikeAnyResult(string engine)
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, new Dictionary<string, string?> { ["Xmbl:Compute:Engine"] = engine });
        var hash = (await silo.Modules.AddAsync(HandWrittenModules.EndlessWriter())).Hash;

        // Before the fix the refused writes were errors the program ignored, and it ran until its fuel was gone.
        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Fuel: 2_000_000_000, Validators: 1))).Id);

        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.Equal((RunOutcome.OutputLimitExceeded, ExitCodes.OutputLimit), (job.Result!.Outcome, job.Result.ExitCode));
        // The write that would cross the cap is refused whole: 256 writes of 4 KiB fill 1 MiB exactly.
        Assert.Equal(1 << 20, (await silo.Jobs.GetOutputAsync(job.Id))!.Length);
        Assert.All(job.Assignments, a => Assert.True(a.Agreed));
        Assert.True(job.Result.Fuel < 1_000_000, $"fuel {job.Result.Fuel}");
        Assert.StartsWith("output limit exceeded", job.FailureReason, StringComparison.Ordinal);
        Assert.True(job.Price > 0);
    }

    [Fact]
    public void CappedOutputStream_RefusesTheWriteThatCrossesTheCapWithItsOwnException()
    {
        using var stream = new CappedOutputStream(10);
        stream.Write([1, 2, 3, 4, 5, 6, 7, 8]);

        var ex = Assert.Throws<OutputLimitExceededException>(() => stream.Write([9, 10, 11]));

        // Not an IOException: the WASI host would turn that into an error code the program can ignore.
        Assert.IsNotAssignableFrom<IOException>(ex);
        Assert.Equal(8, stream.Length);
        stream.Write([9, 10]);
        Assert.Throws<OutputLimitExceededException>(() => stream.WriteByte(0));
    }
}
