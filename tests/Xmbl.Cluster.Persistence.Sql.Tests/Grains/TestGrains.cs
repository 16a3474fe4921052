namespace Xmbl.Cluster.Persistence.Sql.Tests.Grains;

/// <summary>The grain storage name the tests register the AdoNet provider under.</summary>
public static class TestStorage
{
    public const string Name = "xmbl";

    /// <summary>The same provider with <c>DeleteStateOnClear = true</c> (the optional DeleteStorageKey query).</summary>
    public const string DeletingName = "xmbl-delete";
}

/// <summary>A persisted counter.</summary>
[GenerateSerializer]
[Alias("xmbl.test.CounterState")]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public string Note { get; set; } = string.Empty;
}

/// <summary>A grain whose every change is written before the call returns.</summary>
[Alias("xmbl.test.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task<int> AddAsync(int delta, string note);

    [Alias("Get")]
    Task<CounterState> GetAsync();
}

/// <summary>A grain counting the ticks of its durable reminder in its persisted state.</summary>
[Alias("xmbl.test.ITickGrain")]
public interface ITickGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task StartAsync(TimeSpan period);

    [Alias("Ticks")]
    Task<int> TicksAsync();

    [Alias("Stop")]
    Task StopAsync();
}

public sealed class CounterGrain([PersistentState("counter", TestStorage.Name)] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> AddAsync(int delta, string note)
    {
        state.State.Value += delta;
        state.State.Note = note;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<CounterState> GetAsync() => Task.FromResult(state.State);
}

public sealed class TickGrain([PersistentState("ticks", TestStorage.Name)] IPersistentState<CounterState> state) : Grain, ITickGrain, IRemindable
{
    public const string ReminderName = "tick";

    public async Task StartAsync(TimeSpan period) => await this.RegisterOrUpdateReminder(ReminderName, period, period);

    public Task<int> TicksAsync() => Task.FromResult(state.State.Value);

    public async Task StopAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Value++;
        await state.WriteStateAsync();
    }
}

/// <summary>A grain holding one persisted label, which it can clear.</summary>
[Alias("xmbl.test.ILabelGrain")]
public interface ILabelGrain : IGrainWithStringKey
{
    [Alias("Set")]
    Task SetAsync(int value, string note);

    [Alias("Clear")]
    Task ClearAsync();
}

public sealed class LabelGrain([PersistentState(LabelGrain.StateName, TestStorage.Name)] IPersistentState<CounterState> state) : Grain, ILabelGrain
{
    public const string StateName = "label";

    public async Task SetAsync(int value, string note)
    {
        state.State.Value = value;
        state.State.Note = note;
        await state.WriteStateAsync();
    }

    public async Task ClearAsync() => await state.ClearStateAsync();
}
