
namespace Xmbl.Cluster.Benchmarks.Storage;

/// <summary>The state the storage-writes run persists: a counter and an opaque payload (base64 in JSON).</summary>
[GenerateSerializer]
[Alias("xmbl.bench.BenchState")]
public sealed class BenchState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public byte[] Payload { get; set; } = [];
}

/// <summary>A grain whose every call writes its state before it returns, as the cluster's grains do.</summary>
/// <remarks>Orleans names spelled out: this assembly also sees src/Runtime's contracts in the enclosing Xmbl.Cluster namespace.</remarks>
[Alias("xmbl.bench.IBenchStateGrain")]
public interface IBenchStateGrain : Orleans.IGrainWithStringKey
{
    [Alias("Write")]
    Task WriteAsync(int value, byte[] payload);
}

/// <summary>Persists to the storage registered as <see cref="StorageName"/>, whichever provider that is in the run.</summary>
public sealed class BenchStateGrain([PersistentState("bench", BenchStateGrain.StorageName)] IPersistentState<BenchState> state) : Grain, IBenchStateGrain
{
    public const string StorageName = "bench";

    public async Task WriteAsync(int value, byte[] payload)
    {
        state.State.Value = value;
        state.State.Payload = payload;
        await state.WriteStateAsync();
    }
}
