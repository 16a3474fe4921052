using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xmbl.Cluster.Storage.Shards;

/// <summary>The identifier of one shard on one node: 1 to 128 characters from <c>[A-Za-z0-9._-]</c>, not starting with a dot.</summary>
/// <remarks>The character set keeps ids safe as file names and as URL path segments without escaping.</remarks>
[JsonConverter(typeof(ShardIdJsonConverter))]
public readonly record struct ShardId
{
    /// <summary>The maximum length of a shard id.</summary>
    public const int MaxLength = 128;

    private readonly string? _value;

    private ShardId(string value) => _value = value;

    /// <summary>The id's text.</summary>
    public string Value => _value ?? throw new InvalidOperationException("The default ShardId has no value.");

    /// <summary>A new random id (128 random bits as 32 lowercase hex characters).</summary>
    public static ShardId New() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>Parses <paramref name="value"/>, throwing <see cref="FormatException"/> when it is not a valid id.</summary>
    public static ShardId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a valid shard id (1-{MaxLength} characters of [A-Za-z0-9._-], not starting with '.').");

    /// <summary>Parses <paramref name="value"/> into an id; false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ShardId id)
    {
        id = default;
        if (!IsValid(value))
        {
            return false;
        }

        id = new ShardId(value);
        return true;
    }

    /// <summary>Whether <paramref name="value"/> is a valid shard id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || value[0] == '.')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => _value ?? string.Empty;
}

/// <summary>Writes a <see cref="ShardId"/> as a JSON string.</summary>
public sealed class ShardIdJsonConverter : JsonConverter<ShardId>
{
    /// <inheritdoc/>
    public override ShardId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ShardId.TryParse(reader.GetString(), out var id) ? id : throw new JsonException("Invalid shard id.");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, ShardId value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }
}
