using System.Text.Json;

namespace Xmbl.Cluster.Runtime.Core;

/// <summary>How grain state is turned into bytes: UTF-8 JSON (System.Text.Json), readable in the database.</summary>
internal static class GrainStateSerializer
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        // Fields are not serialized; state types use properties (records or classes with setters).
        WriteIndented = false,
    };

    public static byte[] Serialize<TState>(TState state) => JsonSerializer.SerializeToUtf8Bytes(state, Options);

    public static TState Deserialize<TState>(byte[] bytes, GrainId id)
        where TState : class
    {
        TState? state;
        try
        {
            state = JsonSerializer.Deserialize<TState>(bytes, Options);
        }
        catch (JsonException ex)
        {
            throw new GrainStateException(id.Type, id.Key, $"the stored bytes are not valid JSON for {typeof(TState).Name} ({ex.Message}).", ex);
        }
        catch (NotSupportedException ex)
        {
            throw new GrainStateException(id.Type, id.Key, $"{typeof(TState).Name} cannot be deserialized ({ex.Message}).", ex);
        }

        return state ?? throw new GrainStateException(id.Type, id.Key, "the stored state is JSON null.");
    }
}
