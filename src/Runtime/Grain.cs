using Xmbl.Cluster.Runtime.Core;

namespace Xmbl.Cluster.Runtime;

/// <summary>Base class of grain implementations without persistent state.</summary>
/// <remarks>
/// A fresh instance runs each call; only <see cref="Grain{TState}.State"/> survives between calls, so keep
/// nothing in fields. Calls to one grain never overlap, in this process or any other.
/// </remarks>
public abstract class Grain
{
    private GrainCallContext? _context;

    private GrainCallContext Context => _context
        ?? throw new InvalidOperationException($"{GetType().Name} is used outside a grain call; grains are created by the grain runtime, get them from IGrainFactory.");

    /// <summary>The factory for references to other grains.</summary>
    protected IGrainFactory GrainFactory => Context.Runtime;

    /// <summary>The clock of the runtime (a test clock under test).</summary>
    protected TimeProvider TimeProvider => Context.Runtime.TimeProvider;

    /// <summary>The application's services.</summary>
    protected IServiceProvider ServiceProvider => Context.Runtime.Services;

    /// <summary>The key of a grain with a string key.</summary>
    /// <returns>The key.</returns>
    protected string GetPrimaryKeyString() => Context.Id.Key;

    /// <summary>The key of a grain with a <see cref="Guid"/> key.</summary>
    /// <returns>The key.</returns>
    /// <exception cref="InvalidOperationException">The grain has a string key.</exception>
    protected Guid GetPrimaryKey() => Guid.TryParseExact(Context.Id.Key, "D", out var key)
        ? key
        : throw new InvalidOperationException($"Grain {Context.Id} has a string key, not a Guid key; use GetPrimaryKeyString().");

    /// <summary>Registers a durable reminder, or changes its schedule if it exists; <see cref="IRemindable.ReceiveReminderAsync"/> gets its ticks.</summary>
    /// <param name="name">The reminder's name, unique per grain.</param>
    /// <param name="dueTime">Time until the first tick.</param>
    /// <param name="period">Time between ticks; positive.</param>
    /// <returns>A task that completes when the reminder is stored.</returns>
    /// <remarks>The reminder is stored in its own transaction, immediately, even if the current call later fails.</remarks>
    protected Task RegisterOrUpdateReminderAsync(string name, TimeSpan dueTime, TimeSpan period) =>
        Context.Runtime.Reminders.RegisterOrUpdateAsync(Context.Registration, Context.Id, name, dueTime, period, Context.CancellationToken);

    /// <summary>Removes a reminder of this grain; nothing happens if it does not exist.</summary>
    /// <param name="name">The reminder's name.</param>
    /// <returns>A task that completes when the reminder is removed.</returns>
    protected Task UnregisterReminderAsync(string name) =>
        Context.Runtime.Reminders.UnregisterAsync(Context.Id, name, Context.CancellationToken);

    internal void Attach(GrainCallContext context) => _context = context;

    /// <summary>Loads the stored state into the grain before the call.</summary>
    internal virtual void LoadState(byte[]? stored, GrainId id)
    {
    }

    /// <summary>After the call: the state to write, or null when it did not change.</summary>
    internal virtual byte[]? GetChangedState() => null;
}

/// <summary>Base class of grain implementations with persistent state of type <typeparamref name="TState"/>.</summary>
/// <typeparam name="TState">The state; serialized with System.Text.Json, so use public properties.</typeparam>
public abstract class Grain<TState> : Grain
    where TState : class, new()
{
    private TState? _state;
    private byte[]? _loaded;

    /// <summary>The grain's state: loaded before each call and saved after it if it changed (one transaction per call).</summary>
    /// <remarks>If the call throws, changes are discarded. A grain without stored state starts from <c>new TState()</c>.</remarks>
    protected TState State
    {
        get => _state ?? throw new InvalidOperationException($"{GetType().Name}.State is used outside a grain call.");
        set => _state = value ?? throw new ArgumentNullException(nameof(value), "Grain state cannot be null; assign new TState() to reset it.");
    }

    internal override void LoadState(byte[]? stored, GrainId id)
    {
        if (stored is null)
        {
            _state = new TState();
            _loaded = GrainStateSerializer.Serialize(_state);
        }
        else
        {
            _state = GrainStateSerializer.Deserialize<TState>(stored, id);
            _loaded = stored;
        }
    }

    internal override byte[]? GetChangedState()
    {
        var bytes = GrainStateSerializer.Serialize(State);
        return _loaded is not null && bytes.AsSpan().SequenceEqual(_loaded) ? null : bytes;
    }
}

/// <summary>What a grain instance knows about the call it runs in.</summary>
internal sealed class GrainCallContext(GrainRuntime runtime, GrainRegistration registration, GrainId id, CancellationToken cancellationToken)
{
    public GrainRuntime Runtime { get; } = runtime;

    public GrainRegistration Registration { get; } = registration;

    public GrainId Id { get; } = id;

    public CancellationToken CancellationToken { get; } = cancellationToken;
}
