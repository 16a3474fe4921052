namespace Xmbl.Cluster.Runtime.Tests.Support;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();

    Task<int> AddAsync(int amount, CancellationToken ct);

    Task<int> GetAsync();

    ValueTask<int> GetValueAsync();

    ValueTask ResetAsync();

    Task FailAfterChangeAsync();

    Task<int> CallSelfAsync();
}

public sealed class CounterState
{
    public int Value { get; set; }
}

public sealed class CounterGrain : Grain<CounterState>, ICounterGrain
{
    public Task<int> IncrementAsync() => Task.FromResult(++State.Value);

    public Task<int> AddAsync(int amount, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        State.Value += amount;
        return Task.FromResult(State.Value);
    }

    public Task<int> GetAsync() => Task.FromResult(State.Value);

    public ValueTask<int> GetValueAsync() => ValueTask.FromResult(State.Value);

    public ValueTask ResetAsync()
    {
        State = new CounterState();
        return ValueTask.CompletedTask;
    }

    public Task FailAfterChangeAsync()
    {
        State.Value += 1000;
        throw new InvalidOperationException("grain failure after a state change");
    }

    public Task<int> CallSelfAsync() => GrainFactory.GetGrain<ICounterGrain>(GetPrimaryKeyString()).GetAsync();
}

public interface IAccountGrain : IGrainWithGuidKey
{
    Task<Guid> GetKeyAsync();

    Task DepositAsync(long amount);

    Task<long> GetBalanceAsync();
}

public sealed class AccountState
{
    public long Balance { get; set; }

    public List<long> History { get; set; } = [];
}

public sealed class AccountGrain : Grain<AccountState>, IAccountGrain
{
    public Task<Guid> GetKeyAsync() => Task.FromResult(GetPrimaryKey());

    public Task DepositAsync(long amount)
    {
        State.Balance += amount;
        State.History.Add(amount);
        return Task.CompletedTask;
    }

    public Task<long> GetBalanceAsync() => Task.FromResult(State.Balance);
}

/// <summary>Calls another grain from inside its own call; used for nesting and lock-cycle tests.</summary>
public interface IRelayGrain : IGrainWithStringKey
{
    Task<int> IncrementOtherAsync(string counterKey);

    Task<string> CallRelayAfterBarrierAsync(string otherRelayKey);

    Task<string> PingAsync();

    Task<string> BounceAsync(string viaKey);

    Task<string> PingBackAsync(string callerKey);
}

public sealed class RelayGrain(CallBarrier barrier) : Grain, IRelayGrain
{
    public Task<int> IncrementOtherAsync(string counterKey) => GrainFactory.GetGrain<ICounterGrain>(counterKey).IncrementAsync();

    public async Task<string> CallRelayAfterBarrierAsync(string otherRelayKey)
    {
        // Both relays hold their own lock before either calls the other: a lock cycle.
        await barrier.SignalAndWaitAsync();
        return await GrainFactory.GetGrain<IRelayGrain>(otherRelayKey).PingAsync();
    }

    public Task<string> PingAsync() => Task.FromResult("pong from " + GetPrimaryKeyString());

    public Task<string> BounceAsync(string viaKey) => GrainFactory.GetGrain<IRelayGrain>(viaKey).PingBackAsync(GetPrimaryKeyString());

    public Task<string> PingBackAsync(string callerKey) => GrainFactory.GetGrain<IRelayGrain>(callerKey).PingAsync();
}

/// <summary>Lets two grain calls wait for each other.</summary>
public sealed class CallBarrier
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public int Participants { get; set; } = 2;

    public Task SignalAndWaitAsync()
    {
        lock (_lock)
        {
            if (++_arrived == Participants)
            {
                _all.TrySetResult();
            }

            return _all.Task;
        }
    }
}

public interface ITickGrain : IGrainWithStringKey, IRemindable
{
    Task StartAsync(TimeSpan due, TimeSpan period);

    Task StopAsync();

    Task<IReadOnlyList<DateTimeOffset>> GetTicksAsync();
}

public sealed class TickState
{
    public List<DateTimeOffset> Ticks { get; set; } = [];
}

public sealed class TickGrain(TickLog log) : Grain<TickState>, ITickGrain
{
    public Task StartAsync(TimeSpan due, TimeSpan period) => RegisterOrUpdateReminderAsync("tick", due, period);

    public Task StopAsync() => UnregisterReminderAsync("tick");

    public Task<IReadOnlyList<DateTimeOffset>> GetTicksAsync() => Task.FromResult<IReadOnlyList<DateTimeOffset>>(State.Ticks);

    public Task ReceiveReminderAsync(string reminderName, TickStatus status)
    {
        State.Ticks.Add(status.CurrentTickTime);
        log.Add(GetPrimaryKeyString(), status);
        return Task.CompletedTask;
    }
}

/// <summary>Records delivered ticks and lets a test wait for a count.</summary>
public sealed class TickLog
{
    private readonly Lock _lock = new();
    private readonly List<(string Key, TickStatus Status)> _ticks = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<(string Key, TickStatus Status)> Ticks
    {
        get
        {
            lock (_lock)
            {
                return [.. _ticks];
            }
        }
    }

    public void Add(string key, TickStatus status)
    {
        lock (_lock)
        {
            _ticks.Add((key, status));
            foreach (var w in _waiters.Where(w => w.Count <= _ticks.Count).ToList())
            {
                w.Done.TrySetResult();
                _waiters.Remove(w);
            }
        }
    }

    public Task WaitForCountAsync(int count)
    {
        lock (_lock)
        {
            if (_ticks.Count >= count)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, tcs));
            return tcs.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
