using System.Reflection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Reminders;
using Xmbl.Cluster.Runtime.Storage;

namespace Xmbl.Cluster.Runtime.Core;

/// <summary>
/// Carries out grain calls: in-process lock, database transaction (lock + load), run the method on a fresh grain
/// instance, write the state back if it changed, commit. Also the <see cref="IGrainFactory"/>.
/// </summary>
internal sealed partial class GrainRuntime : IGrainFactory
{
    private readonly IGrainStateStore _store;
    private readonly IPersistenceBackend _backend;
    private readonly ILogger<GrainRuntime> _logger;
    private readonly Lock _initLock = new();
    private Task? _initialization;

    public GrainRuntime(IServiceProvider services, GrainRegistry registry, IPersistenceBackend backend, TimeProvider timeProvider, ILogger<GrainRuntime> logger)
    {
        Services = services;
        Registry = registry;
        _backend = backend;
        _store = backend.States;
        TimeProvider = timeProvider;
        _logger = logger;
        Reminders = new ReminderRegistry(this, backend);
    }

    public IServiceProvider Services { get; }

    public GrainRegistry Registry { get; }

    public TimeProvider TimeProvider { get; }

    public ReminderRegistry Reminders { get; }

    public TGrain GetGrain<TGrain>(string key)
        where TGrain : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return (TGrain)GetGrain(typeof(TGrain), key);
    }

    public TGrain GetGrain<TGrain>(Guid key)
        where TGrain : IGrainWithGuidKey => (TGrain)GetGrain(typeof(TGrain), key.ToString("D"));

    /// <summary>Gets a reference by interface type and stored key (a Guid key in "D" form).</summary>
    public object GetGrain(Type interfaceType, string key)
    {
        var registration = Registry.Get(interfaceType);
        var proxy = DispatchProxy.Create(interfaceType, typeof(GrainProxy));
        ((GrainProxy)proxy).Reference = new GrainReference(this, registration, new GrainId(registration.GrainType, key));
        return proxy;
    }

    /// <summary>Creates the schema once; a failed attempt is retried by the next call.</summary>
    public Task EnsureInitializedAsync(CancellationToken ct)
    {
        var init = Volatile.Read(ref _initialization);
        if (init is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        lock (_initLock)
        {
            if (_initialization is null || _initialization.IsFaulted || _initialization.IsCanceled)
            {
                _initialization = _backend.InitializeAsync(CancellationToken.None);
            }

            return _initialization.WaitAsync(ct);
        }
    }

    public async Task<TResult> InvokeAsync<TResult>(GrainId id, GrainRegistration registration, GrainMethodInvoker<TResult> invoker, object?[] args)
    {
        var ct = invoker.GetCancellationToken(args);
        await EnsureInitializedAsync(ct).ConfigureAwait(false);

        var caller = GrainCallNode.Current;
        if (GrainCallNode.IsInCallChain(caller, id))
        {
            throw new InvalidOperationException(
                $"Grain {id} called itself re-entrantly ({GrainCallNode.Describe(caller, id)}); the call would wait for its own lock forever. " +
                "Call the method directly on 'this' instead of through a grain reference.");
        }

        ct.ThrowIfCancellationRequested();
        var node = new GrainCallNode(caller, id);
        using (await _store.Locks.AcquireAsync(node, ct).ConfigureAwait(false))
        {
            var transaction = await _store.BeginAsync(id, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var grain = registration.CreateInstance(Services);
                grain.Attach(new GrainCallContext(this, registration, id, ct));
                grain.LoadState(transaction.State, id);

                TResult result;
                GrainCallNode.Current = node;
                try
                {
                    result = await invoker.RunAsync(grain, args).ConfigureAwait(false);
                }
                finally
                {
                    node.Completed = true;
                    GrainCallNode.Current = caller;
                }

                var changed = grain.GetChangedState();
                await transaction.CommitAsync(changed, ct).ConfigureAwait(false);
                if (changed is not null)
                {
                    LogStateWritten(id.Type, id.Key, transaction.Version + 1);
                }

                return result;
            }
        }
    }

    [LoggerMessage(EventId = RuntimeEventId.StateWritten, Level = LogLevel.Trace, Message = "Grain {GrainType}/{GrainKey} state written at version {Version}")]
    private partial void LogStateWritten(string grainType, string grainKey, long version);
}
