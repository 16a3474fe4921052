using System.Collections.Concurrent;
using System.Reflection;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains;

/// <summary>
/// Base of the cluster's grains with durable state. A call that changes the state writes it before it returns; a
/// call that throws leaves nothing changed (the stored state is read back); a call that changes nothing writes
/// nothing. Methods marked <see cref="ReadOnlyAttribute"/> on the interface skip the check.
/// </summary>
/// <typeparam name="TState">The state; stored as System.Text.Json, so use public properties.</typeparam>
/// <remarks>
/// Grain code stays what it was before Orleans: mutate <see cref="State"/> and return. The write happens in this
/// grain's own call filter, once per call, so a transition that touches several fields is one write.
/// </remarks>
public abstract class DurableGrain<TState> : Grain, IIncomingGrainCallFilter
    where TState : class, new()
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> ReadOnlyMethods = new();
    private readonly IPersistentState<TState> _state;
    private byte[]? _saved;

    /// <summary>Creates the grain over its persistent state.</summary>
    /// <param name="state">The state Orleans loaded for this activation.</param>
    protected DurableGrain(IPersistentState<TState> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
    }

    /// <summary>The grain's state: as last written, plus the changes of the call running now.</summary>
    protected TState State
    {
        get => _state.State;
        set => _state.State = value ?? throw new ArgumentNullException(nameof(value), "Grain state cannot be null; assign new TState() to reset it.");
    }

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _saved = Serialize(_state.State);
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc/>
    async Task IIncomingGrainCallFilter.Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod is { } method && IsReadOnly(method))
        {
            await context.Invoke();
            return;
        }

        try
        {
            await context.Invoke();
            var bytes = Serialize(_state.State);
            if (_saved is not null && bytes.AsSpan().SequenceEqual(_saved))
            {
                return;
            }

            // The provider is handed these bytes rather than serializing the state again.
            await GrainStateJsonSerializer.Default.WriteAsync(_state.State, bytes, _state.WriteStateAsync);
            _saved = bytes;
        }
        catch
        {
            await RollBackAsync();
            throw;
        }

        OnStateWritten();
    }

    /// <summary>Runs after a call's changes were written (e.g. to wake watchers, who then read stored facts).</summary>
    protected virtual void OnStateWritten()
    {
    }

    /// <summary>Drops the failed call's changes: reads the stored state back, or, if that fails too, deactivates.</summary>
    private async Task RollBackAsync()
    {
        try
        {
            await _state.ReadStateAsync();
            _saved = Serialize(_state.State);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next call gets a fresh activation, which loads the stored state.
            DeactivateOnIdle();
        }
    }

    // The storage serializer's own bytes, so a change check and the write it leads to share one serialization.
    private static byte[] Serialize(TState state) => GrainStateJsonSerializer.Default.ToBytes(state);

    private static bool IsReadOnly(MethodInfo method) =>
        ReadOnlyMethods.GetOrAdd(method, static m => m.IsDefined(typeof(ReadOnlyAttribute), inherit: true));
}
