using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>An embedded silo process killed (SIGKILL) and started again on its data directory.</summary>
[Trait("Suite", "Functional")]
public sealed class EmbeddedRestartTests(ITestOutputHelper output) : IDisposable
{
    // The repair pass logs 3110 at Information; the silo's default level is Warning in these tests.
    private const string RepairPassLogged = "StorageRepairService[3110]";

    private readonly TempDirectory _data = new("xmbl-restart");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task KilledAndRestarted_GrainStateAndTheStoredRepairReminderSurvive_AndAZeroPeriodRemovesIt()
    {
        string[] args = ["--nodes", "3", "--Xmbl:Storage:RepairPeriod", "00:00:02", "--Logging:LogLevel:Xmbl.Cluster.Grains.Objects.StorageRepairService", "Information"];
        var data = new byte[200_000];
        new Random(11).NextBytes(data);
        string jobId;
        string jobOutput;
        IReadOnlyList<string?> nodes;
        (string Start, long PeriodMs) reminder;
        await using (var first = await SiloProcess.StartAsync(_data.Path, args))
        {
            using (var put = await first.Http.PutAsync(new Uri("/api/objects/it/keep.bin", UriKind.Relative), new ByteArrayContent(data)))
            {
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            var module = await JobsApi.UploadAsync(first, "hello.wasm");
            jobId = await JobsApi.SubmitAsync(first, new JsonObject { ["module"] = module, ["validators"] = 1 });
            Assert.Equal("Settled", (await JobsApi.WaitAsync(first, jobId)).Text("status"));
            jobOutput = await JobsApi.OutputAsync(first, jobId);
            nodes = NodeIds(await first.GetJsonAsync("/api/cluster"));
            await UntilAsync(() => first.Output.Contains(RepairPassLogged, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "a repair pass before the restart");
            reminder = await ReminderAsync() ?? throw new InvalidOperationException("no repair reminder is stored");
            await first.KillAsync();
        }

        await using (var second = await SiloProcess.StartAsync(_data.Path, args))
        {
            var started = Stopwatch.StartNew();
            await UntilAsync(() => second.Output.Contains(RepairPassLogged, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "a repair pass after the restart");
            output.WriteLine($"first repair pass {started.Elapsed.TotalSeconds:F1} s after the restarted silo was healthy");

            // The reminder that fired is the stored one: the restart did not register it anew (which would move its start).
            Assert.Equal(reminder, await ReminderAsync());
            Assert.Equal(2000, reminder.PeriodMs);
            Assert.Equal(data, await second.Http.GetByteArrayAsync(new Uri("/api/objects/it/keep.bin", UriKind.Relative)));
            var job = await second.GetJsonAsync($"/api/jobs/{jobId}");
            Assert.Equal("Settled", job.Text("status"));
            Assert.Equal(jobOutput, await JobsApi.OutputAsync(second, jobId));
            Assert.Equal(nodes, NodeIds(await second.GetJsonAsync("/api/cluster")));
            Assert.Equal(0, await second.StopAsync());
        }

        string[] off = [.. args[..2], "--Xmbl:Storage:RepairPeriod", "00:00:00", .. args[4..]];
        await using var third = await SiloProcess.StartAsync(_data.Path, off);
        await UntilAsync(async () => await ReminderAsync() is null, TimeSpan.FromSeconds(30), "the reminder to be removed");
        var removedAt = third.Output.Length;
        await Task.Delay(TimeSpan.FromSeconds(5));

        Assert.DoesNotContain(RepairPassLogged, third.Output[removedAt..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task KilledAndRestarted_APendingJobsTimeoutStillFires()
    {
        // A short wall time and grace make the deadline tick every second, so the timeout fires close to its time.
        string[] args = ["--nodes", "2", "--price", "1", "--Xmbl:Compute:PendingTimeout", "00:00:40", "--Xmbl:Compute:DispatchGrace", "00:00:01"];
        var clock = Stopwatch.StartNew();
        string id;
        await using (var first = await SiloProcess.StartAsync(_data.Path, args))
        {
            var module = await JobsApi.UploadAsync(first, "hello.wasm");
            // No node is cheap enough: the job can never be placed and waits in pending.
            id = await JobsApi.SubmitAsync(first, new JsonObject { ["module"] = module, ["validators"] = 0, ["maxPrice"] = 0.5, ["limits"] = new JsonObject { ["wallTimeMs"] = 1000 } });
            Assert.Equal("Pending", (await first.GetJsonAsync($"/api/jobs/{id}")).Text("status"));
            await first.KillAsync();
        }

        await using var second = await SiloProcess.StartAsync(_data.Path, args);
        var restartedAt = clock.Elapsed;
        var afterRestart = await second.GetJsonAsync($"/api/jobs/{id}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"the restart took {restartedAt}: the timeout could have passed before it");
        var job = await JobsApi.WaitAsync(second, id, TimeSpan.FromSeconds(120));
        output.WriteLine($"restarted {restartedAt.TotalSeconds:F1} s after submission; failed {clock.Elapsed.TotalSeconds:F1} s after");

        Assert.Equal("Pending", afterRestart.Text("status"));
        Assert.Equal("Failed", job.Text("status"));
        Assert.StartsWith("no eligible node (alive, with free capacity, price at most 0.5) within 00:00:40", job.Text("reason"), StringComparison.Ordinal);
        var waited = job.GetProperty("finishedAt").GetDateTimeOffset() - job.GetProperty("createdAt").GetDateTimeOffset();
        Assert.InRange(waited, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(55));
    }

    /// <summary>The repair reminder's row in the silo's SQLite reminder table, or null.</summary>
    private async Task<(string Start, long PeriodMs)?> ReminderAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_data.File("cluster.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT start_time, period_ms FROM orleans_reminder WHERE reminder_name = 'repair'";
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetInt64(1)) : null;
    }

    private static IReadOnlyList<string?> NodeIds(System.Text.Json.JsonElement cluster) =>
        [.. cluster.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order(StringComparer.Ordinal)];

    private static Task UntilAsync(Func<bool> condition, TimeSpan within, string what) => UntilAsync(() => Task.FromResult(condition()), within, what);

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var started = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(started.Elapsed < within, $"waited {within} for {what}");
            await Task.Delay(100);
        }
    }
}
