using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orleans.Storage;

namespace Xmbl.Cluster.Persistence.Sql;

/// <summary>
/// Grain state as UTF-8 JSON (System.Text.Json): readable in the database, so the read-side queries
/// (<see cref="IGrainStateQuery"/>) can deserialize rows without the grain. For <c>SqliteGrainStorage</c> and for
/// Orleans' AdoNet provider (<c>AdoNetGrainStorageOptions.GrainStorageSerializer</c>).
/// </summary>
/// <remarks>
/// State types use public properties (records, or classes with setters); fields are not serialized. Orleans'
/// <c>[Id]</c> attributes are ignored here: JSON matches members by name, so renaming a property is a breaking change of
/// the stored format. Not Orleans' own <c>Orleans.Storage.JsonGrainStorageSerializer</c> (Newtonsoft.Json, type names in
/// the payload).
/// </remarks>
public sealed class GrainStateJsonSerializer : IGrainStorageSerializer
{
    // The bytes a caller made for the write it is running (see WriteAsync), in its own async flow only.
    private static readonly AsyncLocal<Prepared?> PreparedWrite = new();

    /// <summary>The options of <see cref="Default"/>: System.Text.Json's general defaults, compact output. Read-only.</summary>
    public static readonly JsonSerializerOptions DefaultOptions = CreateDefaultOptions();

    /// <summary>The serializer with <see cref="DefaultOptions"/>.</summary>
    public static readonly GrainStateJsonSerializer Default = new(DefaultOptions);

    /// <summary>Creates a serializer with the given options (made read-only here).</summary>
    public GrainStateJsonSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsReadOnly)
        {
            options.MakeReadOnly(populateMissingResolver: true);
        }

        Options = options;
    }

    /// <summary>The options used both ways.</summary>
    public JsonSerializerOptions Options { get; }

    /// <summary>The state as this serializer writes it.</summary>
    public byte[] ToBytes<T>(T? state) => JsonSerializer.SerializeToUtf8Bytes(state, Options);

    /// <summary>
    /// Runs <paramref name="write"/> (a grain's <c>WriteStateAsync</c>) with the bytes the caller already made of
    /// <paramref name="state"/> by <see cref="ToBytes{T}"/>: the provider's <see cref="Serialize{T}"/> of that same object,
    /// in this call's async flow, returns them instead of serializing the state a second time.
    /// </summary>
    /// <remarks>The caller must not change the state between <see cref="ToBytes{T}"/> and the end of the write.</remarks>
    public async Task WriteAsync(object state, byte[] bytes, Func<Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        PreparedWrite.Value = new Prepared(this, state, bytes);
        try
        {
            await write().ConfigureAwait(false);
        }
        finally
        {
            PreparedWrite.Value = null;
        }
    }

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) =>
        PreparedWrite.Value is { } prepared && ReferenceEquals(prepared.Serializer, this) && input is not null && ReferenceEquals(prepared.State, input)
            ? BinaryData.FromBytes(prepared.Bytes)
            : BinaryData.FromBytes(ToBytes(input));

    /// <inheritdoc/>
    /// <exception cref="JsonException">The bytes are not JSON for <typeparamref name="T"/>, or are JSON <c>null</c>.</exception>
    public T Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)
            ?? throw new JsonException($"The stored state is JSON null, not a {typeof(T).Name}.");
    }

    private static JsonSerializerOptions CreateDefaultOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            WriteIndented = false,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }

    private sealed record Prepared(GrainStateJsonSerializer Serializer, object State, byte[] Bytes);
}
