using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Ledger;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Gateway.Network;

/// <summary>
/// Reads the cluster for the feed through the same services as the REST API: the cluster view and new jobs every
/// <see cref="NetworkFeedOptions.RefreshPeriod"/>; each recent job that is not final through a long poll on its grain
/// (<see cref="JobService.WatchAsync"/>), so its changes arrive as they happen; objects, repairs and the ledger every
/// <see cref="NetworkFeedOptions.SlowRefreshPeriod"/>. A read that fails is logged once and retried at the next tick.
/// </summary>
internal sealed partial class ClusterNetworkSource : INetworkSource
{
    /// <summary>Stripes listed per object; beyond them the counts still cover every stripe.</summary>
    public const int MaxStripesShown = 64;

    private const string EpochsRoute = "/api/ledger/epochs";
    private const int JobPage = 1000;
    private const int StatePage = 500;
    private static readonly TimeSpan InitialJobWindow = TimeSpan.FromDays(1);

    private readonly IServiceProvider _services;
    private readonly NodeDirectory _nodes;
    private readonly JobService _jobs;
    private readonly ObjectService _objects;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly NetworkFeedOptions _options;
    private readonly ILogger<ClusterNetworkSource> _logger;

    public ClusterNetworkSource(IServiceProvider services, IOptions<NetworkFeedOptions> options, ILogger<ClusterNetworkSource> logger)
    {
        _services = services;
        _nodes = services.GetRequiredService<NodeDirectory>();
        _jobs = services.GetRequiredService<JobService>();
        _objects = services.GetRequiredService<ObjectService>();
        _query = services.GetRequiredService<IGrainStateQuery>();
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _options = options.Value;
        _logger = logger;
    }

    public async Task RunAsync(INetworkSink sink, CancellationToken cancellationToken)
    {
        var failing = new HashSet<string>(StringComparer.Ordinal);
        var jobs = new RecentJobs(this, sink, cancellationToken);
        try
        {
            var nextSlow = DateTimeOffset.MinValue;
            using var timer = new PeriodicTimer(_options.RefreshPeriod, _time);
            do
            {
                IReadOnlySet<string>? live = null;
                await StepAsync("cluster", async () => live = await PublishClusterAsync(sink, cancellationToken));
                await StepAsync("jobs", jobs.RefreshAsync);
                if (_time.GetUtcNow() >= nextSlow)
                {
                    nextSlow = _time.GetUtcNow() + _options.SlowRefreshPeriod;
                    await StepAsync("objects", () => PublishObjectsAsync(sink, live, cancellationToken));
                    await StepAsync("repair", () => PublishRepair(sink));
                    await StepAsync("ledger", () => PublishLedgerAsync(sink, cancellationToken));
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        finally
        {
            jobs.StopAll();
        }

        async Task StepAsync(string part, Func<Task> step)
        {
            try
            {
                await step();
                if (failing.Remove(part))
                {
                    LogRecovered(part);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Storage or a silo may be away for a while: say so once, not every second.
                if (failing.Add(part))
                {
                    LogReadFailed(part, ex);
                }
            }
        }
    }

    private async Task<IReadOnlySet<string>> PublishClusterAsync(INetworkSink sink, CancellationToken cancellationToken)
    {
        var view = await ClusterEndpoints.ReadAsync(
            _services.GetRequiredService<IGrainFactory>(),
            _services.GetService<ILocalSiloDetails>(),
            _nodes,
            _services.GetRequiredService<ReputationDirectory>(),
            _services.GetService<Grpc.GrpcEndpoint>(),
            _services.GetService<P2P.P2PBridge>(),
            cancellationToken);
        sink.Publish(NetworkEventKinds.Cluster, null, view);
        return view.Nodes.Where(n => n.Status == "alive").Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
    }

    private async Task PublishObjectsAsync(INetworkSink sink, IReadOnlySet<string>? live, CancellationToken cancellationToken)
    {
        live ??= (await _nodes.ListAsync(cancellationToken)).Where(n => n.Alive).Select(n => n.Node.NodeId).ToHashSet(StringComparer.Ordinal);
        var listable = new Dictionary<string, bool>(StringComparer.Ordinal);
        var items = new List<NetworkObjectView>();
        long onDeadNodes = 0;
        var scanned = 0;
        string? after = null;
        var truncated = false;
        while (true)
        {
            var page = await _query.ListAsync<ObjectGrainState>(GrainStates.Object, null, after, StatePage, cancellationToken);
            foreach (var entry in page)
            {
                scanned++;
                if (entry.State.Current is not { } version || !IsListable(version.Manifest.Namespace))
                {
                    continue;
                }

                if (items.Count == _options.MaxObjects)
                {
                    truncated = true;
                    break;
                }

                var health = ObjectHealth.Evaluate(version.Manifest, live);
                onDeadNodes += health.TotalShards - health.HealthyShards;
                items.Add(View(version, health));
            }

            if (truncated || page.Count < StatePage)
            {
                break;
            }

            if (scanned >= _options.MaxScannedRows)
            {
                truncated = true;
                break;
            }

            after = page[^1].Key;
        }

        sink.Publish(NetworkEventKinds.Objects, null, new NetworkObjectsView(items, truncated, onDeadNodes));

        // The page is public: it shows only namespaces whose policy lets anyone list them.
        bool IsListable(string ns)
        {
            if (!listable.TryGetValue(ns, out var allowed))
            {
                try
                {
                    _objects.Authorize(ns, null, ObjectService.AnonymousAccount, ObjectOperations.List);
                    allowed = true;
                }
                catch (ObjectPolicyException)
                {
                    allowed = false;
                }

                listable[ns] = allowed;
            }

            return allowed;
        }
    }

    private static NetworkObjectView View(Grains.Interfaces.Objects.StoredObject version, ObjectHealth health)
    {
        var m = version.Manifest;
        var stripes = new int[Math.Min(health.Stripes.Count, MaxStripesShown)];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = health.Stripes[i].Healthy;
        }

        return new NetworkObjectView(m.Namespace, m.Name, m.Size, m.ContentType, m.Sha256, version.Owner, m.CreatedUtc, m.DataShards, m.ParityShards,
            m.Stripes.Count, health.HealthyShards, health.TotalShards, health.IsReadable, stripes);
    }

    private Task PublishRepair(INetworkSink sink)
    {
        var repairs = _services.GetService<StorageRepairService>();
        sink.Publish(NetworkEventKinds.Repair, null, new NetworkRepairView(repairs is not null, repairs?.IsRunning ?? false, repairs?.LastPass));
        return Task.CompletedTask;
    }

    private async Task PublishLedgerAsync(INetworkSink sink, CancellationToken cancellationToken)
    {
        if (_services.GetService<LedgerService>() is null)
        {
            sink.Publish(NetworkEventKinds.Ledger, null, new NetworkLedgerView(false, 0, Credits.Format(0), 0, 0, 0, [], false));
            return;
        }

        long supply = 0, balances = 0, inFlight = 0;
        var count = 0;
        var truncated = false;
        var top = new PriorityQueue<NetworkAccountView, long>();
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<AccountGrainState>(GrainStates.Account, null, after, StatePage, cancellationToken);
            foreach (var entry in page)
            {
                var state = entry.State;
                var pending = state.Outbox.Sum(c => c.Amount);
                count++;
                supply += state.Created;
                balances += state.Balance;
                inFlight += pending;
                if (_options.MaxAccounts > 0)
                {
                    // A min-heap of the largest balances seen so far.
                    var account = new NetworkAccountView(entry.Key, state.Balance, Credits.Format(state.Balance), pending, state.HistoryCount);
                    if (top.Count < _options.MaxAccounts)
                    {
                        top.Enqueue(account, state.Balance);
                    }
                    else if (top.TryPeek(out _, out var smallest) && state.Balance > smallest)
                    {
                        top.EnqueueDequeue(account, state.Balance);
                    }
                }
            }

            if (page.Count < StatePage)
            {
                break;
            }

            if (count >= _options.MaxScannedRows)
            {
                truncated = true;
                break;
            }

            after = page[^1].Key;
        }

        var accounts = new List<NetworkAccountView>(top.Count);
        while (top.TryDequeue(out var account, out _))
        {
            accounts.Add(account);
        }

        accounts.Reverse();
        sink.Publish(NetworkEventKinds.Ledger, null, new NetworkLedgerView(true, supply, Credits.Format(supply), balances, inFlight, count, accounts, truncated, EpochsPath()));
    }

    // Epoch roots come with the escrow part of the ledger; the page asks for them only where the route exists.
    private string? EpochsPath() =>
        _services.GetService<EndpointDataSource>()?.Endpoints.OfType<RouteEndpoint>()
            .Any(e => string.Equals(e.RoutePattern.RawText, EpochsRoute, StringComparison.Ordinal)) == true ? EpochsRoute : null;

    [LoggerMessage(EventId = 3503, Level = LogLevel.Warning, Message = "Network feed: reading {Part} failed; retrying every refresh until it succeeds")]
    private partial void LogReadFailed(string part, Exception exception);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Information, Message = "Network feed: reading {Part} works again")]
    private partial void LogRecovered(string part);

    [LoggerMessage(EventId = 3505, Level = LogLevel.Warning, Message = "Network feed: watching job {JobId} failed; it is read again at the next refresh")]
    private partial void LogWatchFailed(string jobId, Exception exception);

    /// <summary>The latest <see cref="NetworkFeedOptions.RecentJobs"/> jobs: new ones found through a cursor over job ids (submission order), changes through long polls.</summary>
    private sealed class RecentJobs(ClusterNetworkSource source, INetworkSink sink, CancellationToken stopping)
    {
        private readonly SortedDictionary<string, Watch> _jobs = new(StringComparer.Ordinal);
        private string? _cursor;

        public async Task RefreshAsync()
        {
            // The first read starts a day back rather than at the first job ever; later reads continue after the newest seen.
            var after = _cursor ?? JobIds.TimePrefix(source._time.GetUtcNow() - InitialJobWindow);
            var page = await source._jobs.ListAsync(new JobQuery(After: after, Limit: JobPage, MaxScan: source._options.MaxScannedRows), stopping);
            foreach (var job in page.Items)
            {
                if (!_jobs.ContainsKey(job.Id))
                {
                    _jobs[job.Id] = new Watch(job, stopping);
                }
            }

            _cursor = page.Next ?? (page.Items.Count > 0 ? page.Items[^1].Id : after);
            while (_jobs.Count > source._options.RecentJobs)
            {
                var oldest = _jobs.First();
                oldest.Value.Stop();
                _jobs.Remove(oldest.Key);
                sink.Forget(NetworkEventKinds.Job, oldest.Key);
            }

            foreach (var (id, watch) in _jobs)
            {
                if (watch.Latest.IsFinal)
                {
                    if (!watch.PublishedFinal)
                    {
                        watch.PublishedFinal = true;
                        sink.Publish(NetworkEventKinds.Job, id, JobView.From(watch.Latest));
                    }
                }
                else if (watch.Task is null || watch.Task.IsCompleted)
                {
                    // Not final and not watched (new, or its long poll broke): watch it; the watch publishes it at once.
                    watch.Task = WatchAsync(id, watch);
                }
            }
        }

        public void StopAll()
        {
            foreach (var watch in _jobs.Values)
            {
                watch.Stop();
            }
        }

        private async Task WatchAsync(string id, Watch watch)
        {
            try
            {
                await foreach (var record in source._jobs.WatchAsync(id, watch.Token))
                {
                    watch.Latest = record;
                    watch.PublishedFinal = record.IsFinal;
                    sink.Publish(NetworkEventKinds.Job, id, JobView.From(record));
                }
            }
            catch (Exception ex) when (!watch.Token.IsCancellationRequested)
            {
                source.LogWatchFailed(id, ex);
            }
        }

        private sealed class Watch
        {
            private readonly CancellationTokenSource _stop;

            public Watch(JobRecord latest, CancellationToken stopping)
            {
                Latest = latest;
                _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                Token = _stop.Token;
            }

            public JobRecord Latest { get; set; }

            public bool PublishedFinal { get; set; }

            public Task? Task { get; set; }

            public CancellationToken Token { get; }

            public void Stop()
            {
                _stop.Cancel();
                _stop.Dispose();
            }
        }
    }
}
