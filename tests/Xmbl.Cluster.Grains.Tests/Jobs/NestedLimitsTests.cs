using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>A job's wall-clock limit bounds it with its nested runs.</summary>
[Trait("Suite", "Functional")]
public sealed class NestedLimitsTests
{
    [Theory]
    [InlineData("wasmtime")]
    [InlineData("managed")]
    public async Task NestedRunStartedLate_GetsOnlyTheRestOfTheJobsWallTime(string engine)
    {
        var wall = TimeSpan.FromSeconds(2);
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, new Dictionary<string, string?> { ["Xmbl:Compute:MaxAttempts"] = "1", ["Xmbl:Compute:Engine"] = engine });
        var hello = await silo.UploadAsync("hello.wasm");
        var loop = await silo.UploadAsync("infinite_loop.wasm");

        // Calibrate the spin so the parent uses about half its wall time before it starts the child: the difference of
        // two counts leaves out compiling, instantiating and reporting.
        // Small enough that a probe finishes well inside the wall time on a loaded machine.
        const int Probe = 25_000_000;
        await RunAsync(silo, HandWrittenModules.SpinThenRunNested(Probe, hello), wall);
        await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(loop, WallTime: TimeSpan.FromMilliseconds(100), Validators: 0))).Id);
        var shortProbe = await RunAsync(silo, HandWrittenModules.SpinThenRunNested(Probe, hello), wall);
        var longProbe = await RunAsync(silo, HandWrittenModules.SpinThenRunNested(4 * Probe, hello), wall);
        Assert.True(shortProbe.Result is { Outcome: RunOutcome.Exited } && longProbe.Result is { Outcome: RunOutcome.Exited }, $"a probe did not run to its end: {shortProbe.Status} {shortProbe.FailureReason}; {longProbe.Status} {longProbe.FailureReason}");
        var secondsPerIteration = Math.Max(1e-10, (RunTime(longProbe) - RunTime(shortProbe)).TotalSeconds / (3 * Probe));
        var iterations = (int)Math.Clamp(wall.TotalSeconds / 2 / secondsPerIteration, 1, int.MaxValue);

        var job = await RunAsync(silo, HandWrittenModules.SpinThenRunNested(iterations, loop), wall);

        // Before, the child got a full wall time of its own: about 1.5 x the job's limit in all (3 s here). The margin
        // covers compiling the parent, which the engine's clock does not count.
        var attempt = Assert.Single(job.Assignments);
        Assert.Equal((JobStatus.Failed, AssignmentStatus.TimedOut), (job.Status, attempt.Status));
        Assert.True(attempt.NodeTime < wall + TimeSpan.FromMilliseconds(700), $"the run took {attempt.NodeTime} with a limit of {wall} (spin of {iterations} iterations, probes {RunTime(shortProbe)} and {RunTime(longProbe)}): {attempt.Detail}");
    }

    [Theory]
    [InlineData("wasmtime")]
    [InlineData("managed")]
    public async Task NestedRun_GetsOnlyTheMemoryItsParentLeaves(string engine)
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, new Dictionary<string, string?> { ["Xmbl:Compute:Engine"] = engine });
        var child = (await silo.Modules.AddAsync(HandWrittenModules.EmptyCommandWithMemory(10))).Hash;
        var parent = (await silo.Modules.AddAsync(HandWrittenModules.SpinThenRunNested(0, child, export: true))).Hash;

        // The parent has 1 page: with a cap of 10 pages the child's 10 do not fit beside it, with 11 they do.
        var tight = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(parent, Entry: "run", MemoryPages: 10, Validators: 0))).Id);
        var roomy = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(parent, Entry: "run", MemoryPages: 11, Validators: 0))).Id);

        Assert.Equal($"{WasmJobRunner.NestedFailed}\n", System.Text.Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(tight.Id))!));
        Assert.Equal("0\n", System.Text.Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(roomy.Id))!));
    }

    /// <summary>How long the run that produced the job's result took on its node.</summary>
    private static TimeSpan RunTime(JobRecord job) =>
        Assert.Single(job.Assignments, a => a.NodeTime is not null).NodeTime!.Value;

    private static async Task<JobRecord> RunAsync(ComputeSilo silo, byte[] module, TimeSpan wall)
    {
        var hash = (await silo.Modules.AddAsync(module)).Hash;
        return await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Fuel: 1_000_000_000_000, WallTime: wall, Validators: 0))).Id);
    }
}
