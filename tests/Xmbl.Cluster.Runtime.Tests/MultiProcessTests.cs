using System.Diagnostics;
using System.Reflection;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests;

/// <summary>Single writer per key across OS processes: two worker processes increment the same grains on PostgreSQL.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class MultiProcessTests(PostgresFixture postgres)
{
    private static string WorkerPath => typeof(MultiProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "WorkerPath").Value!;

    [Theory]
    [InlineData(1)]
    [InlineData(25)]
    public async Task TwoProcesses_Making500IncrementsEach_EndAtExactly1000(int keyCount)
    {
        Assert.True(File.Exists(WorkerPath), $"The worker was not built at {WorkerPath}.");
        var connectionString = await postgres.CreateDatabaseAsync();

        // Create the schema first so both workers start on equal terms.
        await using (var setup = await TestSilo.StartAsync(new PostgresTarget(connectionString), configure: o => o.ClientOnly = true))
        {
        }

        var results = await Task.WhenAll(RunWorkerAsync(connectionString, keyCount), RunWorkerAsync(connectionString, keyCount));
        Assert.All(results, r => Assert.True(r.ExitCode == 0, $"worker exited with {r.ExitCode}: {r.Output}"));

        await using var silo = await TestSilo.StartAsync(new PostgresTarget(connectionString), configure: o => o.ClientOnly = true);
        var total = 0;
        for (var k = 0; k < keyCount; k++)
        {
            total += await silo.Factory.GetGrain<ICounterGrain>($"c{k}").GetAsync();
        }

        Assert.Equal(1000, total);
        if (keyCount == 1)
        {
            Assert.Equal(1000, await silo.Factory.GetGrain<ICounterGrain>("c0").GetAsync());
        }
    }

    private static async Task<(int ExitCode, string Output)> RunWorkerAsync(string connectionString, int keyCount)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { WorkerPath, connectionString, "500", keyCount.ToString(System.Globalization.CultureInfo.InvariantCulture), "c" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"worker did not finish in 2 minutes: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
