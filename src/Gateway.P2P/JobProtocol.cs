using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.P2P.Yamux;
using JobRequest = Xmbl.Cluster.Gateway.P2P.Messages.JobRequest;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// <c>/xmbl/job/1.0.0</c>: submit a job (as the peer's account), follow its changes, fetch its output. The same
/// <see cref="JobService"/> calls and permissions as <c>POST /api/jobs</c>, <c>…/events</c> and <c>…/output</c>.
/// </summary>
internal sealed class JobProtocol(JobService jobs, IOptions<ComputeOptions> compute, IOptions<P2PBridgeOptions> options, ILogger<JobProtocol> logger) : IBridgeProtocol
{
    public const string ProtocolId = "/xmbl/job/1.0.0";

    public string Id => ProtocolId;

    public async Task ServeAsync(YamuxStream stream, BridgePeer peer, CancellationToken cancellationToken)
    {
        // A submission may carry an inline module: bounded as the REST body is.
        var request = await Framing.ReadMessageAsync(stream.Input, JobRequest.Parser, compute.Value.MaxJobRequestBytes, ProtocolId, cancellationToken)
            ?? throw new BridgeProtocolException($"{ProtocolId}: the stream closed without a request.");
        try
        {
            switch (request.RequestCase)
            {
                case JobRequest.RequestOneofCase.Submit:
                    await SubmitAsync(stream, request.Submit, peer, cancellationToken);
                    break;
                case JobRequest.RequestOneofCase.Watch:
                    await WatchAsync(stream, request.Watch.JobId, cancellationToken);
                    break;
                case JobRequest.RequestOneofCase.Output:
                    await OutputAsync(stream, request.Output.JobId, cancellationToken);
                    break;
                default:
                    throw new BridgeProtocolException($"{ProtocolId}: a request with none of submit, watch, output.");
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or ObjectDisposedException) && P2PBridge.Violation(e) is null && !cancellationToken.IsCancellationRequested)
        {
            // The cluster failed, not the peer: say so on this stream, as REST answers 503.
            BridgeLog.RequestFailed(logger, ProtocolId, peer.Account, e);
            await SendAsync(stream, new JobResponse { Error = BridgeErrors.Of(503, "The cluster could not serve the request now; try again.") }, cancellationToken);
        }
    }

    private async Task SubmitAsync(YamuxStream stream, SubmitJob submit, BridgePeer peer, CancellationToken ct)
    {
        if (ToRequest(submit, peer.Account, out var error) is not { } request)
        {
            await SendAsync(stream, new JobResponse { Error = error }, ct);
            return;
        }

        JobRecord job;
        try
        {
            job = await jobs.SubmitAsync(request, ct);
        }
        catch (JobRequestException e)
        {
            await SendAsync(stream, new JobResponse { Error = BridgeErrors.Of(e.Errors, "The job request is invalid; fields names each problem.") }, ct);
            return;
        }

        await SendAsync(stream, new JobResponse { Job = ToInfo(job) }, ct);
        if (submit.Follow && !job.IsFinal)
        {
            await WatchAsync(stream, job.Id, ct, skip: job.Transitions.Count);
        }
    }

    private async Task WatchAsync(YamuxStream stream, string id, CancellationToken ct, int skip = -1)
    {
        if (await jobs.GetAsync(id) is null)
        {
            await SendAsync(stream, new JobResponse { Error = BridgeErrors.Of(404, $"No job {id}.") }, ct);
            return;
        }

        await foreach (var job in jobs.WatchAsync(id, ct))
        {
            if (job.Transitions.Count != skip)
            {
                await SendAsync(stream, new JobResponse { Job = ToInfo(job) }, ct);
            }
        }
    }

    private async Task OutputAsync(YamuxStream stream, string id, CancellationToken ct)
    {
        var job = await jobs.GetAsync(id);
        if (job is null)
        {
            await SendAsync(stream, new JobResponse { Error = BridgeErrors.Of(404, $"No job {id}.") }, ct);
            return;
        }

        if (await jobs.GetOutputAsync(id) is not { } output)
        {
            await SendAsync(stream, new JobResponse { Error = BridgeErrors.Of(409, $"Job {id} has no agreed output yet (status {job.Status}).") }, ct);
            return;
        }

        // In pieces of at most a frame, so a peer never needs more than that to read one message.
        var piece = options.Value.MaxFrameBytes;
        for (var offset = 0; offset < output.Length || offset == 0; offset += piece)
        {
            var n = Math.Min(piece, output.Length - offset);
            await SendAsync(stream, new JobResponse { Output = BridgeErrors.Bytes(output.AsSpan(offset, n)) }, ct);
            if (output.Length == 0)
            {
                break;
            }
        }
    }

    private static async Task SendAsync(YamuxStream stream, JobResponse response, CancellationToken ct) =>
        await Framing.WriteMessageAsync(stream.Output, response, ct);

    /// <summary>The job as <see cref="JobService.SubmitAsync"/> takes it; values it checks itself (ranges, sizes) pass through.</summary>
    private static Grains.Jobs.JobRequest? ToRequest(SubmitJob s, string account, out Error? error)
    {
        var fields = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (s.HasFuel && s.Fuel > long.MaxValue)
        {
            fields["fuel"] = [$"is larger than {long.MaxValue}"];
        }

        decimal? maxPrice = null;
        if (s.MaxPrice.Length > 0)
        {
            if (decimal.TryParse(s.MaxPrice, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price))
            {
                maxPrice = price;
            }
            else
            {
                fields["maxPrice"] = ["is not a non-negative decimal number such as 0.05"];
            }
        }

        if (s.HasMemoryPages && s.MemoryPages > int.MaxValue)
        {
            fields["memoryPages"] = [$"is larger than {int.MaxValue}"];
        }

        if (s.HasValidators && s.Validators > int.MaxValue)
        {
            fields["validators"] = ["must be 0, 1 or 2"];
        }

        if (fields.Count > 0)
        {
            error = BridgeErrors.Of(fields, "The job request is invalid; fields names each problem.");
            return null;
        }

        error = null;
        return new Grains.Jobs.JobRequest(
            s.ModuleHash.Length == 0 ? null : s.ModuleHash,
            s.Module.IsEmpty ? null : s.Module.ToByteArray(),
            s.Entry.Length == 0 ? null : s.Entry,
            [.. s.Args],
            [.. s.Env.Select(e => KeyValuePair.Create(e.Name, e.Value))],
            s.Stdin.IsEmpty ? null : s.Stdin.ToByteArray(),
            s.HasFuel ? (long)s.Fuel : null,
            s.HasMemoryPages ? (int)s.MemoryPages : null,
            s.HasWallTimeMs ? TimeSpan.FromMilliseconds(s.WallTimeMs) : null,
            maxPrice,
            s.HasValidators ? (int)s.Validators : null,
            s.InputObjects.Count == 0 ? null : [.. s.InputObjects],
            s.OutputObject.Length == 0 ? null : s.OutputObject,
            Submitter: account);
    }

    private static JobInfo ToInfo(JobRecord job)
    {
        var info = new JobInfo
        {
            Id = job.Id,
            Status = job.Status.ToString().ToLowerInvariant(),
            Submitter = job.Spec.Submitter ?? "",
            FailureReason = job.FailureReason ?? "",
            Price = job.Price?.ToString(CultureInfo.InvariantCulture) ?? "",
        };
        if (job.Result is { } r)
        {
            info.ResultHash = r.ResultHash;
            info.Outcome = r.Outcome.ToString().ToLowerInvariant();
            info.ExitCode = r.ExitCode;
            info.Fuel = (ulong)Math.Max(0, r.Fuel);
            info.OutputLength = (ulong)r.OutputLength;
            info.NodeId = r.NodeId;
        }

        foreach (var t in job.Transitions)
        {
            info.Events.Add(new JobEvent
            {
                AtUnixMs = t.At.ToUnixTimeMilliseconds(),
                From = t.From.ToString().ToLowerInvariant(),
                To = t.To.ToString().ToLowerInvariant(),
                NodeId = t.NodeId ?? "",
                Reason = t.Reason,
            });
        }

        return info;
    }
}
