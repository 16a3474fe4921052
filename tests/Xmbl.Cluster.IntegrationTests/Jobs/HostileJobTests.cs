using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Wasm;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>
/// Hostile jobs through the REST API of a real silo process (issue 10): none may crash, freeze or bloat it.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class HostileJobTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-hostile");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task StackBombJob_TwentyThousandI64Locals_EndsCallStackExhaustedAndTheSiloKeepsServing()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var bomb = HostileModules.StackBomb(20_000, WasmModuleWriter.I64, RecursionShape.Self).Wasm;
        Assert.InRange(bomb.Length, 60, 90); // the issue's 80-byte job
        var hash = await UploadAsync(silo, bomb);
        Assert.NotNull(hash);
        var hello = await JobsApi.UploadAsync(silo, "hello.wasm");

        var job = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1 }), TimeSpan.FromMinutes(2));
        var next = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hello, ["validators"] = 1 }));

        Assert.False(silo.HasExited, silo.Output);
        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("Trapped", job.Text("outcome"));
        Assert.Contains("call stack exhausted", job.Text("reason"), StringComparison.Ordinal);
        Assert.DoesNotContain(job.GetProperty("transitions").EnumerateArray(), t => t.Text("to") == "Disputed");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        Assert.Equal("Settled", next.Text("status"));
        Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(silo, next.Text("id")!));
    }

    [Fact]
    public async Task NestedStackBomb_RunInlineFromADeepParent_FailsTheChildOnlyAndTheSiloKeepsServing()
    {
        // The parent recurses nearly to its call-depth budget, then runs the stack bomb as a nested job
        // (xmbl.run_module runs it inline on the parent's guest thread): the child must trap, the parent goes on.
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var bomb = await UploadAsync(silo, HostileModules.StackBomb(20_000, WasmModuleWriter.I64, RecursionShape.Self).Wasm);
        var parent = await UploadAsync(silo, DeepParent(bomb!, 9_900));

        var job = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = parent, ["validators"] = 1 }), TimeSpan.FromMinutes(2));

        Assert.False(silo.HasExited, silo.Output);
        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("Exited", job.Text("outcome"));
        Assert.Equal(0, job.GetProperty("exitCode").GetInt32());
        Assert.Equal("-3", await JobsApi.OutputAsync(silo, job.Text("id")!)); // NestedFailed
        Assert.DoesNotContain(job.GetProperty("transitions").EnumerateArray(), t => t.Text("to") == "Disputed");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task LargeMemoryJobs_OneAfterAnother_ReleaseTheirMemorySoRssReturnsNearBaseline()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "1");
        var fill = await UploadAsync(silo, FillMemory(8_192));
        var small = await UploadAsync(silo, FillMemory(16));
        await RunAsync(silo, small, 16);
        var baseline = RssBytes(_data.Path);

        for (var i = 0; i < 4; i++)
        {
            var job = await RunAsync(silo, fill, 8_192);
            Assert.Equal("Exited", job.Text("outcome"));
        }

        var after = RssBytes(_data.Path);
        output.WriteLine($"RSS baseline {baseline >> 20} MiB, after four 512 MiB jobs {after >> 20} MiB");
        Assert.True(after < baseline + (300L << 20), $"RSS {after >> 20} MiB after four 512 MiB jobs, baseline {baseline >> 20} MiB");
    }

    [Fact]
    public async Task HostileModules_FuzzedThroughARealSilo_NeverCrashHangOrDisputeIt()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("XMBL_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("XMBL_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var d) ? d : 25;
        output.WriteLine($"XMBL_FUZZ_SEED={seed} (XMBL_FUZZ_SECONDS={seconds})");
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var generator = new HostileModules(seed);
        var until = DateTime.UtcNow.AddSeconds(seconds);
        var count = 0;
        while (DateTime.UtcNow < until)
        {
            var module = generator.Next();
            count++;
            var context = $"XMBL_FUZZ_SEED={seed}, module {count}: {module.Description}";
            var hash = await UploadAsync(silo, module.Wasm, context);
            var id = hash is null ? null : await TrySubmitAsync(silo, context, new JsonObject
            {
                ["module"] = hash,
                ["validators"] = 1,
                ["limits"] = new JsonObject { ["fuel"] = 20_000_000, ["memoryPages"] = 4_096, ["wallTimeMs"] = 20_000 },
            });
            var outcome = hash is null ? "refused at upload" : "refused at submission";
            if (id is not null)
            {
                var job = await JobsApi.WaitAsync(silo, id, TimeSpan.FromMinutes(2));
                outcome = $"{job.Text("status")} {job.Text("outcome")} {job.Text("reason")}";
                Assert.True(job.Text("status") is "Settled" or "Failed", $"{context}: {outcome}");
                Assert.False(job.GetProperty("transitions").EnumerateArray().Any(t => t.Text("to") == "Disputed"), $"{context}: executor and validator disagreed: {job}");
            }

            output.WriteLine($"{count}: {module.Description} -> {outcome}");
            Assert.False(silo.HasExited, $"{context}: the silo exited with {(silo.HasExited ? silo.ExitCode : 0)}\n{silo.Output}");
            using var health = await silo.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.True(health.IsSuccessStatusCode, $"{context}: /healthz answered {(int)health.StatusCode}");
        }

        Assert.True(count > 0);
    }

    /// <summary>Uploads a module: its hash, or null when the silo refused it with a 4xx (never a 5xx).</summary>
    private static async Task<string?> UploadAsync(SiloProcess silo, byte[] wasm, string context = "")
    {
        using var content = new ByteArrayContent(wasm);
        using var response = await silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{context}: upload answered {(int)response.StatusCode}: {body}");
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.GetProperty("hash").GetString() : null;
    }

    /// <summary>Submits a job: its id, or null when the silo refused it with a 4xx (e.g. a mutated module without
    /// <c>_start</c>), never a 5xx.</summary>
    private static async Task<string?> TrySubmitAsync(SiloProcess silo, string context, JsonObject job)
    {
        using var content = new StringContent(job.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await silo.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{context}: submit answered {(int)response.StatusCode}: {body}");
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.GetProperty("id").GetString() : null;
    }

    private static async Task<JsonElement> RunAsync(SiloProcess silo, string? hash, int pages)
    {
        var job = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject
        {
            ["module"] = hash,
            ["validators"] = 0,
            // Wasmtime charges memory.fill a unit per byte: 512 MiB costs 537 M fuel there (8.4 M on the managed engine).
            ["limits"] = new JsonObject { ["memoryPages"] = pages, ["fuel"] = 1_000_000_000 },
        }), TimeSpan.FromMinutes(2));
        Assert.Equal("Settled", job.Text("status"));
        return job;
    }

    /// <summary>A command that grows its memory to <paramref name="pages"/> pages and writes every byte (memory.fill).</summary>
    private static byte[] FillMemory(uint pages)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        w.Memory(1);
        byte[] code =
        [
            0x41, .. WasmModuleWriter.SignedLeb(pages - 1), 0x40, 0x00, 0x1A,
            0x41, 0x00, 0x41, 0x01, 0x41, .. WasmModuleWriter.SignedLeb(pages * 65_536L), 0xFC, 0x0B, 0x00,
        ];
        w.Export("_start", 0, w.Function(t, [], code));
        w.Export("memory", 2, 0);
        return w.Build();
    }

    /// <summary>
    /// f(n) = n == 0 ? run_module(hash) : f(n - 1), called with <paramref name="depth"/>; _start writes the
    /// (negative, one-digit) result to stdout with fd_write, so the test sees what happened to the child.
    /// </summary>
    private static byte[] DeepParent(string childHash, int depth)
    {
        var w = new WasmModuleWriter();
        var runModule = w.ImportFunction("xmbl", "run_module", [WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32], [WasmModuleWriter.I64]);
        var fdWrite = w.ImportFunction("wasi_snapshot_preview1", "fd_write", [WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32, WasmModuleWriter.I32], [WasmModuleWriter.I32]);
        w.Memory(1);
        var fType = w.Type([WasmModuleWriter.I32], [WasmModuleWriter.I64]);
        var code = new List<byte>();
        code.AddRange([0x20, 0x00, 0x45, 0x04, WasmModuleWriter.I64]); // if (n == 0) (result i64)
        for (var i = 0; i < childHash.Length; i++)
        {
            code.AddRange([0x41, .. WasmModuleWriter.SignedLeb(i), 0x41, .. WasmModuleWriter.SignedLeb(childHash[i]), 0x3A, 0x00, 0x00]);
        }

        code.AddRange([0x41, 0x00, 0x41, .. WasmModuleWriter.SignedLeb(childHash.Length), 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x10, .. WasmModuleWriter.Leb(runModule)]);
        code.AddRange([0x05, 0x20, 0x00, 0x41, 0x01, 0x6B, 0x10, 0x02, 0x0B]); // else f(n - 1) end
        var f = w.Function(fType, [], [.. code]);

        // r = f(depth); the result is -1..-4 or a length: write "-" and its magnitude's digit (enough here).
        byte[] start =
        [
            0x41, .. WasmModuleWriter.SignedLeb(depth), 0x10, .. WasmModuleWriter.Leb(f), 0xA7, 0x21, 0x00,
            0x41, 0x80, 0x01, 0x41, 0x2D, 0x3A, 0x00, 0x00, // mem[128] = '-'
            0x41, 0x81, 0x01, 0x41, 0x30, 0x41, 0x00, 0x20, 0x00, 0x6B, 0x6A, 0x3A, 0x00, 0x00, // mem[129] = '0' - r
            0x41, 0x90, 0x01, 0x41, 0x80, 0x01, 0x36, 0x02, 0x00, // iov.base = 128
            0x41, 0x94, 0x01, 0x41, 0x02, 0x36, 0x02, 0x00, // iov.len = 2
            0x41, 0x01, 0x41, 0x90, 0x01, 0x41, 0x01, 0x41, 0xA0, 0x01, 0x10, .. WasmModuleWriter.Leb(fdWrite), 0x1A,
        ];
        w.Export("_start", 0, w.Function(w.Type([], []), [(1, WasmModuleWriter.I32)], start));
        w.Export("memory", 2, 0);
        return w.Build();
    }

    /// <summary>VmRSS of the silo process started with <paramref name="dataDirectory"/>, found through /proc.</summary>
    private static long RssBytes(string dataDirectory)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmdline.Contains("Xmbl.Cluster.Silo.dll", StringComparison.Ordinal) || !cmdline.Split('\0').Contains(dataDirectory))
                {
                    continue;
                }

                var line = File.ReadLines(Path.Combine(dir, "status")).First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException)
            {
                // A process that ended meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        throw new InvalidOperationException($"No silo process with --data {dataDirectory} found.");
    }
}
