using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Xmbl.Cluster.Cli.Tests;

[Trait("Suite", "Functional")]
public sealed class RunCommandTests
{
    [Fact]
    public async Task Run_HelloWorld_PrintsAndExitsZero()
    {
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("hello"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("Hello, world!\n", result.Stdout);
        Assert.Equal(string.Empty, result.Stderr);
    }

    [Theory]
    [InlineData("3", 3)]
    [InlineData("77", 77)]
    public async Task Run_ProgramCallsExit_XmblExitsWithTheSameCode(string argument, int expected)
    {
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("exit_code"), argument);

        Assert.Equal(expected, result.ExitCode);
        Assert.Equal($"exiting with {expected}\n", result.Stdout);
    }

    [Fact]
    public async Task Run_Stdin_IsPassedThrough()
    {
        var result = await CliHarness.RunWithInputAsync("line one\nline two\n", "run", CliHarness.Fixture("echo"));

        Assert.Equal("line one\nline two\n", result.Stdout);
        Assert.Equal("echoed 18 bytes\n", result.Stderr);
    }

    [Fact]
    public async Task Run_ArgumentsAfterDoubleDashAndEnv_ReachTheProgram()
    {
        var result = await CliHarness.RunAsync(
            "run", "--env", "GREETING=hi there", "-e", "X=1", CliHarness.Fixture("args_env"), "--", "-v", "--fuel", "plain");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("argc=4\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("argv[1]=-v\nargv[2]=--fuel\nargv[3]=plain\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("env GREETING=hi there\nenv X=1\nGREETING=hi there\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_HostEnvironment_IsNotVisible()
    {
        Environment.SetEnvironmentVariable("XMBL_TEST_SHOULD_NOT_LEAK", "1");
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("args_env"));

        Assert.DoesNotContain("XMBL_TEST_SHOULD_NOT_LEAK", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("GREETING=(unset)", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DirMapping_GivesTheProgramThatDirectoryOnly()
    {
        var dir = Directory.CreateTempSubdirectory("xmbl-cli-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "input.txt"), "cli test\n");

            var result = await CliHarness.RunAsync("run", "--dir", dir.FullName + "::.", CliHarness.Fixture("files"));

            Assert.Equal(0, result.ExitCode);
            Assert.Contains("escape refused: yes", result.Stdout, StringComparison.Ordinal);
            Assert.Equal("CLI TEST\nAPPENDED\n", await File.ReadAllTextAsync(Path.Combine(dir.FullName, "out", "final.txt")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Run_Trap_PrintsMessageAndExits134()
    {
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("trap"));

        Assert.Equal(CliExitCodes.Trap, result.ExitCode);
        Assert.Equal("about to trap\n", result.Stdout);
        Assert.Equal("error: wasm trap: unreachable\n", result.Stderr);
    }

    [Fact]
    public async Task Run_FuelLimit_StopsAnInfiniteLoop()
    {
        var result = await CliHarness.RunAsync("run", "--fuel", "1000000", CliHarness.Fixture("infinite_loop"));

        Assert.Equal(CliExitCodes.Trap, result.ExitCode);
        Assert.Contains("all fuel consumed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Timeout_StopsAnInfiniteLoop()
    {
        var result = await CliHarness.RunAsync("run", "--timeout", "300ms", CliHarness.Fixture("infinite_loop"));

        Assert.Equal(CliExitCodes.Trap, result.ExitCode);
        Assert.Contains("timed out", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MaxMemory_CapsTheProgram()
    {
        var result = await CliHarness.RunAsync("run", "--max-memory", "16MiB", CliHarness.Fixture("memory_bomb"));

        Assert.Equal(0, result.ExitCode);
        var mib = int.Parse(result.Stdout.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(mib, 10, 15);
    }

    [Fact]
    public async Task Run_DeepRecursion_ExitsWithTrapNotCrash()
    {
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("deep_recursion"));

        Assert.Equal(CliExitCodes.Trap, result.ExitCode);
        Assert.Contains("call stack exhausted", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Seed_MakesOutputReproducible()
    {
        var first = await CliHarness.RunAsync("run", "--seed", "42", CliHarness.Fixture("clock_random"));
        var second = await CliHarness.RunAsync("run", "--seed", "42", CliHarness.Fixture("clock_random"));
        var other = await CliHarness.RunAsync("run", "--seed", "43", CliHarness.Fixture("clock_random"));

        Assert.Equal(first.Stdout, second.Stdout);
        Assert.NotEqual(first.Stdout, other.Stdout);
    }

    [Fact]
    public async Task Run_Stats_PrintsTimingsAndFuelToStderr()
    {
        var result = await CliHarness.RunAsync("run", "--stats", CliHarness.Fixture("hello"));

        Assert.Equal("Hello, world!\n", result.Stdout);
        Assert.Matches(
            new Regex(@"^stats: compile_ms=\d+\.\d instantiate_ms=\d+\.\d run_ms=\d+\.\d fuel_consumed=[1-9]\d* memory_pages=\d+ exit_code=0\n$"),
            result.Stderr);
    }

    [Theory]
    [InlineData("wasmtime")]
    [InlineData("managed")]
    public async Task Run_StatsOnEitherEngine_SameOutputAndFuelLine(string engine)
    {
        var result = await CliHarness.RunAsync("run", "--engine", engine, "--seed", "7", "--stats", CliHarness.Fixture("clock_random"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("random 5a76f94ef7fa58b3d22c484f963d5c47\n", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"fuel_consumed=[1-9]\d* memory_pages=\d+ exit_code=0\n$"), result.Stderr);
    }

    [Fact]
    public async Task Run_UnknownEngine_IsAUsageErrorNamingTheEngines()
    {
        var result = await CliHarness.RunAsync("run", "--engine", "v8", CliHarness.Fixture("hello"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--engine: 'v8' is not an engine; use wasmtime or managed", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("add", "2 -5", "-3\n")]
    [InlineData("add", "4294967295 1", "0\n")]
    [InlineData("fact", "20", "2432902008176640000\n")]
    [InlineData("hypot2", "3 4.5", "29.25\n")]
    [InlineData("half", "inf", "inf\n")]
    public async Task Run_Invoke_PrintsResults(string function, string arguments, string expected)
    {
        var result = await CliHarness.RunAsync(["run", "--invoke", function, CliHarness.Fixture("exports"), "--", .. arguments.Split(' ')]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, result.Stdout);
    }

    [Theory]
    [InlineData("add", new[] { "1" }, "takes 2 argument(s)")]
    [InlineData("add", new[] { "1", "x" }, "'x' is not a valid i32")]
    [InlineData("fact", new[] { "1.5" }, "is not a valid i64")]
    public async Task Run_InvokeWithBadArguments_IsAUsageError(string function, string[] arguments, string message)
    {
        var result = await CliHarness.RunAsync(["run", "--invoke", function, CliHarness.Fixture("exports"), "--", .. arguments]);

        Assert.Equal(CliExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InvokeUnknownExport_Fails()
    {
        var result = await CliHarness.RunAsync("run", "--invoke", "nope", CliHarness.Fixture("exports"));

        Assert.Equal(CliExitCodes.Failure, result.ExitCode);
        Assert.Contains("no function named 'nope'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ReactorWithoutInvoke_ExplainsAndListsExports()
    {
        var result = await CliHarness.RunAsync("run", CliHarness.Fixture("exports"));

        Assert.Equal(CliExitCodes.Failure, result.ExitCode);
        Assert.Contains("no _start export", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("add, fact, hypot2, half", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingFile_FailsWithoutStackTrace()
    {
        var result = await CliHarness.RunAsync("run", "/nonexistent/prog.wasm");

        Assert.Equal(CliExitCodes.Failure, result.ExitCode);
        Assert.Equal("error: file not found: /nonexistent/prog.wasm\n", result.Stderr);
    }

    [Fact]
    public async Task Run_NotAWasmFile_ReportsMalformedModule()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "this is text");

            var result = await CliHarness.RunAsync("run", path);

            Assert.Equal(CliExitCodes.Failure, result.ExitCode);
            Assert.Contains("is not a valid WebAssembly module", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--max-memory", "lots")]
    [InlineData("--timeout", "soon")]
    [InlineData("--dir", "/definitely/not/here")]
    [InlineData("--env", "NOEQUALS")]
    [InlineData("--fuel", "-5")]
    [InlineData("--fuel", "many")]
    public async Task Run_BadOptionValue_IsAUsageError(string option, string value)
    {
        var result = await CliHarness.RunAsync("run", option, value, CliHarness.Fixture("hello"));

        Assert.Equal(CliExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Run_UnknownOption_IsAUsageError()
    {
        var result = await CliHarness.RunAsync("run", "--bogus", CliHarness.Fixture("hello"));

        Assert.Equal(CliExitCodes.Usage, result.ExitCode);
        Assert.Contains("--bogus", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsTheRunCommand()
    {
        var result = await CliHarness.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("run", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--gateway", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_ExitCodeAndStdio_PassThroughARealProcess()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "xmbl.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "run", CliHarness.Fixture("exit_code"), "9" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(9, process.ExitCode);
        Assert.Equal("exiting with 9\n", stdout);
    }
}
