using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster;
using Xmbl.Cluster.Runtime;

// Usage: Xmbl.Cluster.Runtime.Worker <postgres-connection-string> <increments> <key-count> <key-prefix>
// Makes <increments> grain calls, spread round-robin over <key-count> counter grains, then exits 0.
if (args.Length != 4 || !int.TryParse(args[1], out var increments) || !int.TryParse(args[2], out var keyCount) || keyCount < 1)
{
    await Console.Error.WriteLineAsync("usage: worker <connection-string> <increments> <key-count> <key-prefix>");
    return 2;
}

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Services.AddGrainRuntime(o => o.ClientOnly = true)
    .UsePostgres(args[0])
    .AddGrain<ICounterGrain, CounterGrain>();
using var host = builder.Build();
await host.StartAsync();
var factory = host.Services.GetRequiredService<IGrainFactory>();

// Several concurrent callers, like a busy silo.
const int Callers = 4;
await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
{
    for (var i = c; i < increments; i += Callers)
    {
        await factory.GetGrain<ICounterGrain>($"{args[3]}{i % keyCount}").IncrementAsync();
    }
})));
await host.StopAsync();
Console.WriteLine("done");
return 0;

/// <summary>The same grain type name and state shape as the test project's counter.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();
}

public sealed class CounterState
{
    public int Value { get; set; }
}

public sealed class CounterGrain : Grain<CounterState>, ICounterGrain
{
    public Task<int> IncrementAsync() => Task.FromResult(++State.Value);
}
