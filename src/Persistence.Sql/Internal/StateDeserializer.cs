using System.Text.Json;

namespace Xmbl.Cluster.Persistence.Sql.Internal;

/// <summary>Turns a stored JSON payload into state for the queries, or a <see cref="GrainStateReadException"/> naming the row.</summary>
internal static class StateDeserializer
{
    public static TState Deserialize<TState>(byte[] payload, JsonSerializerOptions options, string stateName, string key)
    {
        try
        {
            return JsonSerializer.Deserialize<TState>(payload, options)
                ?? throw new JsonException($"The stored state is JSON null, not a {typeof(TState).Name}.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new GrainStateReadException(stateName, key, typeof(TState), e);
        }
    }
}
