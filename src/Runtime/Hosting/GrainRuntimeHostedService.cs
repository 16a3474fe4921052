using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Membership;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Reminders;

namespace Xmbl.Cluster.Runtime.Hosting;

/// <summary>
/// Starts the runtime with the host: creates the schema, joins membership, and runs the heartbeat, reminder and
/// notification loops; on stop, leaves the cluster cleanly.
/// </summary>
internal sealed partial class GrainRuntimeHostedService : IHostedService, IDisposable
{
    private readonly GrainRuntime _runtime;
    private readonly IPersistenceBackend _backend;
    private readonly PersistenceOptions _persistence;
    private readonly SiloOptions _silo;
    private readonly ILogger<GrainRuntimeHostedService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private bool _joined;

    public GrainRuntimeHostedService(
        GrainRuntime runtime,
        IPersistenceBackend backend,
        IOptions<PersistenceOptions> persistence,
        IOptions<SiloOptions> silo,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        IHostApplicationLifetime? lifetime = null)
    {
        _runtime = runtime;
        _backend = backend;
        _persistence = persistence.Value;
        _silo = silo.Value;
        _logger = loggerFactory.CreateLogger<GrainRuntimeHostedService>();
        Membership = new MembershipAgent(backend.Membership, _silo, timeProvider, lifetime, loggerFactory.CreateLogger<MembershipAgent>());
        Reminders = new ReminderService(backend, runtime, _silo, timeProvider, loggerFactory.CreateLogger<ReminderService>());
    }

    public MembershipAgent Membership { get; }

    public ReminderService Reminders { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarting(_silo.SiloId, _persistence.ToString(), _silo.ClientOnly);
        try
        {
            await _runtime.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
            if (!_silo.ClientOnly)
            {
                await Membership.JoinAsync(cancellationToken).ConfigureAwait(false);
                _joined = true;
            }
        }
        catch (Exception ex) when (ex is not GrainRuntimeStartupException and not OperationCanceledException)
        {
            var wrapped = new GrainRuntimeStartupException($"The grain runtime could not start on {_persistence}: {ex.Message}", ex);
            LogStartupFailed(wrapped, wrapped.Message);
            throw wrapped;
        }
        catch (GrainRuntimeStartupException ex)
        {
            LogStartupFailed(ex, ex.Message);
            throw;
        }

        var ct = _stopping.Token;
        if (!_silo.ClientOnly)
        {
            // Notifications only serve the reminder loop, which a client-only process does not run.
            _loops.Add(Task.Run(() => _backend.ListenAsync(ct), CancellationToken.None));
            _loops.Add(Membership.StartLoop(ct));
            _loops.Add(Task.Run(() => Reminders.RunAsync(ct), CancellationToken.None));
        }

        LogStarted(_silo.SiloId, _backend.Name);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_joined)
        {
            _joined = false;
            try
            {
                await Membership.LeaveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Others will declare us dead after the death timeout.
                LogStartupFailed(ex, "Leaving the cluster failed");
            }
        }

        LogStopped(_silo.SiloId);
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(EventId = RuntimeEventId.StartingRuntime, Level = LogLevel.Information, Message = "Starting grain runtime: silo {SiloId}, {Persistence}, client only: {ClientOnly}")]
    private partial void LogStarting(string siloId, string persistence, bool clientOnly);

    [LoggerMessage(EventId = RuntimeEventId.RuntimeStarted, Level = LogLevel.Information, Message = "Grain runtime started: silo {SiloId} on {Backend}")]
    private partial void LogStarted(string siloId, string backend);

    [LoggerMessage(EventId = RuntimeEventId.StartupFailed, Level = LogLevel.Critical, Message = "{Message}")]
    private partial void LogStartupFailed(Exception ex, string message);

    [LoggerMessage(EventId = RuntimeEventId.RuntimeStopped, Level = LogLevel.Information, Message = "Grain runtime stopped: silo {SiloId}")]
    private partial void LogStopped(string siloId);
}
