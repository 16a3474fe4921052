using System.Text;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// The hand-off that lets a grain's change check and its write share one serialization: inside
/// <see cref="GrainStateJsonSerializer.WriteAsync"/>, the provider's serialization of that very state object returns
/// the caller's bytes; anything else is serialized as usual.
/// </summary>
public sealed class GrainStateJsonSerializerTests
{
    private sealed class Counter
    {
        public int Value { get; set; }
    }

    [Fact]
    public async Task Serialize_of_the_state_being_written_returns_the_bytes_made_for_it()
    {
        var serializer = GrainStateJsonSerializer.Default;
        var state = new Counter { Value = 7 };
        var bytes = serializer.ToBytes(state);
        BinaryData? seen = null;

        await serializer.WriteAsync(state, bytes, () =>
        {
            seen = serializer.Serialize(state);
            return Task.CompletedTask;
        });

        Assert.NotNull(seen);
        Assert.True(seen.ToMemory().Span == bytes.AsSpan(), "the write serialized the state again instead of using the caller's bytes");
    }

    [Fact]
    public async Task Serialize_of_another_object_or_by_another_serializer_or_after_the_write_serializes_it()
    {
        var serializer = GrainStateJsonSerializer.Default;
        var other = new GrainStateJsonSerializer(new System.Text.Json.JsonSerializerOptions());
        var state = new Counter { Value = 1 };
        var marker = Encoding.UTF8.GetBytes("{\"Value\":99}");
        string? ofOtherObject = null, ofOtherSerializer = null;

        await serializer.WriteAsync(state, marker, async () =>
        {
            await Task.Yield();
            ofOtherObject = serializer.Serialize(new Counter { Value = 2 }).ToString();
            ofOtherSerializer = other.Serialize(state).ToString();
        });

        Assert.Equal("{\"Value\":2}", ofOtherObject);
        Assert.Equal("{\"Value\":1}", ofOtherSerializer);
        Assert.Equal("{\"Value\":1}", serializer.Serialize(state).ToString());
    }

    [Fact]
    public async Task A_failed_write_leaves_nothing_prepared()
    {
        var serializer = GrainStateJsonSerializer.Default;
        var state = new Counter { Value = 3 };

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            serializer.WriteAsync(state, Encoding.UTF8.GetBytes("{\"Value\":42}"), () => throw new InvalidOperationException("storage down")));

        Assert.Equal("{\"Value\":3}", serializer.Serialize(state).ToString());
    }
}
