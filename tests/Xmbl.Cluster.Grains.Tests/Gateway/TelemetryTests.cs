using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Tests.Jobs;
using Xmbl.Cluster.Telemetry;

namespace Xmbl.Cluster.Grains.Tests.Gateway;

/// <summary>The instrumentation the OTLP exporter is given, recorded in memory: one job's whole trace and the cluster's metrics.</summary>
[Trait("Suite", "Functional")]
public sealed class TelemetryTests
{
    [Fact]
    public async Task OneJob_IsOneTrace_FromTheGatewayThroughGrainsToExecutorAndValidator_AndTheMetricsExist()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var gateway = await GatewayApp.StartAsync(services: s => s.AddOpenTelemetry()
            .WithTracing(t => t.AddClusterInstrumentation().AddInMemoryExporter(spans))
            .WithMetrics(m => m.AddClusterInstrumentation().AddInMemoryExporter(metrics)));
        await gateway.FundAsync();

        using var upload = await gateway.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), new ByteArrayContent(ComputeSilo.Fixture("hello.wasm")));
        var hash = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hash").GetString();
        using var submit = await gateway.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), new { module = hash, validators = 1 });
        Assert.Equal(HttpStatusCode.Created, submit.StatusCode);
        var id = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var jobs = gateway.Services.GetRequiredService<JobService>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await jobs.GetAsync(id) is not { IsFinal: true })
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(JobStatus.Settled, (await jobs.GetAsync(id))!.Status);

        // A run's span ends once its report call returns, which may be a moment after the job is final (and the
        // executor's after the validator's, since the validator is assigned during the executor's report call).
        List<Activity> ofJob;
        do
        {
            await Task.Delay(20, timeout.Token);
            lock (spans)
            {
                ofJob = [.. spans.Where(s => Equals(s.GetTagItem(ClusterTelemetry.JobIdTag), id))];
            }
        }
        while (!ofJob.Any(s => s.OperationName == "xmbl.job.validate") || !ofJob.Any(s => s.OperationName == "xmbl.job.execute"));

        var submitSpan = Assert.Single(ofJob, s => s.OperationName == "xmbl.job.submit");
        var request = Assert.Single(SpansSnapshot(spans), s => s.SpanId == submitSpan.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", request.Source.Name);
        Assert.Equal("POST /api/jobs", request.DisplayName);
        Assert.Equal(ActivityKind.Server, request.Kind);
        var trace = request.TraceId;
        var execute = Assert.Single(ofJob, s => s.OperationName == "xmbl.job.execute");
        var validate = Assert.Single(ofJob, s => s.OperationName == "xmbl.job.validate");
        Assert.All(new[] { submitSpan, execute, validate }, s => Assert.Equal(trace, s.TraceId));
        Assert.Equal("executor", execute.GetTagItem(ClusterTelemetry.RoleTag));
        Assert.Equal("validator", validate.GetTagItem(ClusterTelemetry.RoleTag));
        Assert.NotEqual(execute.GetTagItem(ClusterTelemetry.NodeTag), validate.GetTagItem(ClusterTelemetry.NodeTag));

        // Grain calls in between: the submission's call to the job grain, and the executor's report that dispatched the validator.
        var grainCalls = SpansSnapshot(spans).Where(s => s.Source.Name == Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName && s.TraceId == trace).ToList();
        Assert.Contains(grainCalls, s => s.ParentSpanId == submitSpan.SpanId && s.DisplayName.Contains("SubmitAsync", StringComparison.Ordinal));
        Assert.Contains(grainCalls, s => s.ParentSpanId == execute.SpanId && s.DisplayName.Contains("ReportAsync", StringComparison.Ordinal));
        Assert.Contains(grainCalls, s => s.SpanId == validate.ParentSpanId || IsAncestor(grainCalls, s, validate));

        gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();
        var names = metrics.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var expected in new[]
                 {
                     "xmbl.jobs.transitions", "xmbl.jobs.validated", "xmbl.jobs.fuel", "xmbl.jobs.duration", "xmbl.jobs.run.duration",
                     "xmbl.jobs.running", "xmbl.storage.bytes", "http.server.request.duration",
                 })
        {
            Assert.Contains(expected, names);
        }

        Assert.Contains(metrics, m => m.MeterName == TelemetryExtensions.OrleansMeter);
        Assert.Contains(metrics, m => m.MeterName == "System.Runtime");
        var transitions = metrics.Last(m => m.Name == "xmbl.jobs.transitions");
        var statuses = new HashSet<string>(StringComparer.Ordinal);
        foreach (ref readonly var point in transitions.GetMetricPoints())
        {
            foreach (var tag in point.Tags)
            {
                statuses.Add((string)tag.Value!);
            }
        }

        Assert.Superset(new HashSet<string>(["pending", "scheduled", "executed", "validating", "validated", "settled"], StringComparer.Ordinal), statuses);
    }

    private static List<Activity> SpansSnapshot(List<Activity> spans)
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    private static bool IsAncestor(List<Activity> calls, Activity candidate, Activity of)
    {
        var parent = of.ParentSpanId;
        for (var i = 0; i < 10; i++)
        {
            if (parent == candidate.SpanId)
            {
                return true;
            }

            var next = calls.FirstOrDefault(c => c.SpanId == parent);
            if (next is null)
            {
                return false;
            }

            parent = next.ParentSpanId;
        }

        return false;
    }
}
