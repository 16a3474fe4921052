using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Xmbl.Cluster.Cli.Internal;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl service new|pack|test|publish</c>: build, test locally and publish signed service packages.</summary>
public static partial class ServiceCommand
{
    /// <summary>The test file <c>xmbl service test</c> reads by default.</summary>
    public const string DefaultTestFile = "tests.json";

    /// <summary>Creates the <c>service</c> command group.</summary>
    /// <param name="console">The streams commands use.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var service = new Command("service", "Service packages (.meshsvc): scaffold, pack and sign, test locally, publish.");
        service.Subcommands.Add(New(console));
        service.Subcommands.Add(Pack(console));
        service.Subcommands.Add(Test(console));
        service.Subcommands.Add(Publish(console));
        return service;
    }

    private static Command New(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The service's name (lower case, e.g. text-upper); also the new directory's name." };
        var id = new Option<string?>("--id") { Description = "The package id (default local.NAME).", HelpName = "ID" };
        var parent = new Option<DirectoryInfo?>("--in") { Description = "Where to create the directory (default: the current directory).", HelpName = "DIR" };
        var command = new Command("new", "Scaffold a service directory: manifest (authored by your wallet), a working module, its C source and a test file.") { name, id, parent };
        command.SetAction(async (parse, ct) =>
        {
            var serviceName = parse.GetRequiredValue(name);
            if (!NamePattern().IsMatch(serviceName))
            {
                await console.Error.WriteLineAsync($"error: '{serviceName}' is not a service name: lower-case letters, digits and '-', starting with a letter.");
                return CliExitCodes.Usage;
            }

            var directory = Path.Combine(parse.GetValue(parent)?.FullName ?? Environment.CurrentDirectory, serviceName);
            if (Directory.Exists(directory) || File.Exists(directory))
            {
                await console.Error.WriteLineAsync($"error: {directory} already exists; pick another name or move it away.");
                return CliExitCodes.Failure;
            }

            using var key = await Wallets.OpenOrCreateAsync(parse, console);
            var packageId = parse.GetValue(id) ?? "local." + serviceName;
            var manifest = new ServiceManifest
            {
                PackageId = packageId,
                Version = "0.1.0",
                ServiceType = "utility",
                Author = key.PublicKey.Did,
                Description = "Upper-cases text (the scaffold's example: replace modules/main.wasm with your own).",
                RuntimeRequired = [ServiceVocabulary.Wasm],
                DeviceProfile = "budget",
                ResourceRequirements = new ResourceRequirements { MinMemoryMB = 2, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
                PlatformSupport = ["linux", "windows", "macos"],
                Inputs =
                [
                    new ServiceInput { Name = "text", Type = ServiceValueType.String, MaxLength = 65536, Description = "The text to upper-case." },
                    new ServiceInput { Name = "repeat", Type = ServiceValueType.Integer, Required = false, Minimum = 1, Maximum = 100, Description = "How many times to write it." },
                ],
                Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String, FileType = "txt", Description = "The upper-cased text." }],
                Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
                Entry = "modules/main.wasm",
            };

            // Check what we write with the same parser pack uses (a bad --id is reported with its path).
            if (!ManifestParser.TryParse(ManifestWriter.ToIndentedJson(manifest), out _, out var errors))
            {
                foreach (var error in errors)
                {
                    await console.Error.WriteLineAsync("error: manifest " + error);
                }

                return CliExitCodes.Usage;
            }

            Directory.CreateDirectory(Path.Combine(directory, "modules"));
            Directory.CreateDirectory(Path.Combine(directory, "src"));
            await File.WriteAllBytesAsync(Path.Combine(directory, PackagePaths.Manifest), ManifestWriter.ToIndentedJson(manifest), ct);
            await File.WriteAllBytesAsync(Path.Combine(directory, "modules", "main.wasm"), ServiceTemplates.Module(), ct);
            await File.WriteAllTextAsync(Path.Combine(directory, "src", "main.c"), ServiceTemplates.Source(), ct);
            await File.WriteAllTextAsync(Path.Combine(directory, DefaultTestFile), ServiceTemplates.Tests, ct);
            await console.Out.WriteLineAsync(directory);
            await console.Error.WriteLineAsync($"xmbl: created {packageId} 0.1.0 by {key.PublicKey.Did}; try 'xmbl service test {serviceName}', then 'xmbl service pack {serviceName}'.");
            return CliExitCodes.Success;
        });
        return command;
    }

    private static Command Pack(CliConsole console)
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "The service directory (manifest.json and the files it lists)." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Where to write the package (default ID-VERSION.meshsvc here).", HelpName = "FILE" };
        var command = new Command("pack", "Validate the manifest, pack its files and sign with your wallet (which must be the manifest's author).") { dir, output };
        command.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetRequiredValue(dir);
            if (await LoadManifestAsync(directory, console) is not { } manifest)
            {
                return CliExitCodes.Failure;
            }

            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var file in manifest.Files)
            {
                var full = Path.Combine(directory.FullName, file.Path);
                if (!File.Exists(full))
                {
                    await console.Error.WriteLineAsync($"error: the manifest lists {file.Path}, but {full} does not exist.");
                    return CliExitCodes.Failure;
                }

                files[file.Path] = await File.ReadAllBytesAsync(full, ct);
            }

            var limits = PackageLimits.Default;
            if (files.Values.Sum(f => (long)f.Length) > limits.MaxTotalBytes || files.Values.Any(f => f.Length > limits.MaxEntryBytes))
            {
                await console.Error.WriteLineAsync($"error: the files exceed the package limits ({limits.MaxEntryBytes} bytes per file, {limits.MaxTotalBytes} in all).");
                return CliExitCodes.Failure;
            }

            using var key = Wallets.OpenIfExists(parse);
            if (key is null || key.PublicKey.Did != manifest.Author)
            {
                await console.Error.WriteLineAsync(key is null
                    ? $"error: no wallet at {Wallets.PathOf(parse)}; the package must be signed by its author {manifest.Author} (pass --wallet FILE)."
                    : $"error: the manifest's author is {manifest.Author}, but the wallet is {key.PublicKey.Did}; sign with the author's wallet (--wallet FILE) or change $.author.");
                return CliExitCodes.Failure;
            }

            var package = PackageWriter.Write(manifest, files, key);
            var verified = PackageReader.Read(package, limits);
            var target = parse.GetValue(output)?.FullName ?? Path.GetFullPath($"{manifest.PackageId}-{manifest.Version}.meshsvc");
            await File.WriteAllBytesAsync(target, package, ct);
            await console.Out.WriteLineAsync(target);
            await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"xmbl: packed {manifest.Key} ({files.Count} file(s), {package.Length} bytes, sha256 {verified.Sha256}), signed by {key.PublicKey.Did}"));
            return CliExitCodes.Success;
        });
        return command;
    }

    private static Command Test(CliConsole console)
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "The service directory." };
        var file = new Option<FileInfo?>("--tests") { Description = $"The test file (default DIR/{DefaultTestFile}).", HelpName = "FILE" };
        var engine = new Option<string>("--engine")
        {
            Description = $"The engine: {string.Join(" or ", WasmEngineNames.All)}. Default {WasmEngineNames.Default}.",
            HelpName = "NAME",
            DefaultValueFactory = _ => WasmEngineNames.Default,
        };
        var tier = new Option<string>("--tier")
        {
            Description = "Run as an untrusted publisher's package (the default for a new publisher on the mesh: logging only) or a trusted one (every declared capability).",
            HelpName = "untrusted|trusted",
            DefaultValueFactory = _ => "untrusted",
        };
        tier.AcceptOnlyFromAmong("untrusted", "trusted");
        var command = new Command("test", "Run the service locally against the cases of its test file and show pass/fail with diagnostics.") { dir, file, engine, tier };
        command.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetRequiredValue(dir);
            var engineName = parse.GetValue(engine) ?? WasmEngineNames.Default;
            if (!WasmEngineNames.IsKnown(engineName))
            {
                await console.Error.WriteLineAsync($"error: --engine: '{engineName}' is not an engine; use {string.Join(" or ", WasmEngineNames.All)}.");
                return CliExitCodes.Usage;
            }

            if (await LoadManifestAsync(directory, console) is not { } manifest)
            {
                return CliExitCodes.Failure;
            }

            if (manifest.Entry is not { } entry)
            {
                await console.Error.WriteLineAsync("error: a builtin service has no module to test locally.");
                return CliExitCodes.Failure;
            }

            var modulePath = Path.Combine(directory.FullName, entry);
            if (!File.Exists(modulePath))
            {
                await console.Error.WriteLineAsync($"error: the entry module {entry} does not exist ({modulePath}).");
                return CliExitCodes.Failure;
            }

            var testPath = parse.GetValue(file)?.FullName ?? Path.Combine(directory.FullName, DefaultTestFile);
            if (!File.Exists(testPath))
            {
                await console.Error.WriteLineAsync($"error: no test file at {testPath}; write one (see docs/services.md, \"Testing\") or pass --tests FILE.");
                return CliExitCodes.Failure;
            }

            IReadOnlyList<ServiceTestCase> cases;
            try
            {
                cases = ServiceTestSuite.Parse(await File.ReadAllBytesAsync(testPath, ct), Path.GetDirectoryName(testPath)!);
            }
            catch (FormatException e)
            {
                await console.Error.WriteLineAsync($"error: {testPath}: {e.Message}");
                return CliExitCodes.Failure;
            }

            var module = await File.ReadAllBytesAsync(modulePath, ct);
            using var wasm = CliEngines.Create(engineName);
            var trustTier = parse.GetValue(tier) == "trusted" ? TrustTier.Trusted : TrustTier.Untrusted;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

            // Locally the http capability fetches for real (through the manifest's allow-list); storage and nested jobs
            // exist only on a node, so a module importing them is refused here with that reason.
            var providers = new ServiceCapabilityProviders
            {
                HttpGet = (uri, token) =>
                {
                    try
                    {
                        return http.GetByteArrayAsync(uri, token).GetAwaiter().GetResult();
                    }
                    catch (HttpRequestException)
                    {
                        return null;
                    }
                },
            };
            var passed = 0;
            var options = new ServiceRunOptions();
            foreach (var test in cases)
            {
                ServiceTestVerdict verdict;
                try
                {
                    verdict = ServiceTestSuite.Run(wasm, manifest, module, test, options, trustTier, providers, ct);
                }
                catch (WasmModuleRejectedException e)
                {
                    await console.Error.WriteLineAsync($"error: {entry} is not a valid WebAssembly module: {e.Message}");
                    return CliExitCodes.Failure;
                }

                await WriteVerdictAsync(console, verdict);
                passed += verdict.Passed ? 1 : 0;
            }

            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{passed} passed, {cases.Count - passed} failed"));
            return passed == cases.Count ? CliExitCodes.Success : CliExitCodes.Failure;
        });
        return command;
    }

    private static Command Publish(CliConsole console)
    {
        var file = new Argument<FileInfo>("file") { Description = "The package (.meshsvc) to publish." };
        var command = new Command("publish", "Upload a signed package to the cluster's service library (signed by your wallet, which must be its author).") { file };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetRequiredValue(file);
            if (!path.Exists)
            {
                await console.Error.WriteLineAsync($"error: file not found: {path.FullName}");
                return CliExitCodes.Failure;
            }

            var bytes = await File.ReadAllBytesAsync(path.FullName, ct);
            ServicePackage package;
            try
            {
                package = PackageReader.Read(bytes);
            }
            catch (PackageRejectedException e)
            {
                await console.Error.WriteLineAsync($"error: {path.Name} is refused ({e.ReasonCode}): {e.Message}");
                return CliExitCodes.Failure;
            }

            using var key = Wallets.OpenIfExists(parse);
            if (key is null || key.PublicKey.Did != package.Manifest.Author)
            {
                await console.Error.WriteLineAsync($"error: publish with the author's wallet ({package.Manifest.Author}); the library accepts a package only from its author.");
                return CliExitCodes.Failure;
            }

            using var http = Wallets.Client(GlobalOptions.GetGateway(parse), key);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ServicePackageMediaType);
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync(new Uri("api/services", UriKind.Relative), content, ct);
            }
            catch (HttpRequestException e)
            {
                await console.Error.WriteLineAsync($"error: cannot reach the gateway at {GlobalOptions.GetGateway(parse)}: {e.Message}");
                return CliExitCodes.Failure;
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                if (!response.IsSuccessStatusCode)
                {
                    await console.Error.WriteLineAsync($"error: the library refused {package.Manifest.Key}: {ProblemText.Describe(response.StatusCode, body)}");
                    return CliExitCodes.Failure;
                }

                await console.Out.WriteLineAsync(body);
                return CliExitCodes.Success;
            }
        });
        return command;
    }

    /// <summary>The media type of a package upload.</summary>
    public const string ServicePackageMediaType = "application/vnd.xmbl.meshsvc+zip";

    private static async Task<ServiceManifest?> LoadManifestAsync(DirectoryInfo directory, CliConsole console)
    {
        var path = Path.Combine(directory.FullName, PackagePaths.Manifest);
        if (!File.Exists(path))
        {
            await console.Error.WriteLineAsync($"error: no {PackagePaths.Manifest} in {directory.FullName}.");
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path);
        if (ManifestParser.TryParse(bytes, out var manifest, out var errors))
        {
            return manifest;
        }

        await console.Error.WriteLineAsync($"error: {path} is not a valid manifest:");
        foreach (var error in errors)
        {
            await console.Error.WriteLineAsync("  " + error);
        }

        return null;
    }

    private static async Task WriteVerdictAsync(CliConsole console, ServiceTestVerdict verdict)
    {
        var run = verdict.Run;
        var stats = run is null ? "inputs checked, not run" : string.Create(CultureInfo.InvariantCulture, $"{run.Duration.TotalMilliseconds:F1} ms, fuel {run.FuelConsumed}");
        await console.Out.WriteLineAsync($"{(verdict.Passed ? "PASS" : "FAIL")} {verdict.Name} ({stats})");
        if (verdict.Passed)
        {
            return;
        }

        foreach (var line in verdict.Diagnostics)
        {
            await console.Out.WriteLineAsync("  - " + line);
        }

        if (run is not null)
        {
            if (run.Log is { Count: > 0 } log)
            {
                await WriteLogAsync(console, "log", Encoding.UTF8.GetBytes(string.Join('\n', log)));
            }

            await WriteLogAsync(console, "stdout", run.Stdout);
            await WriteLogAsync(console, "stderr", run.Stderr);
        }
    }

    private static async Task WriteLogAsync(CliConsole console, string name, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        await console.Out.WriteLineAsync($"  {name}:");
        foreach (var line in Encoding.UTF8.GetString(bytes).TrimEnd('\n').Split('\n').Take(20))
        {
            await console.Out.WriteLineAsync("    | " + line);
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
