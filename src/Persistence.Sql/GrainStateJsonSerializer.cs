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

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(input, Options));

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
}
