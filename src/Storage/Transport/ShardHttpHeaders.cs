using System.Text.Json;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Header names and JSON settings shared by <see cref="HttpShardClient"/> and the shard endpoints.</summary>
public static class ShardHttpHeaders
{
    /// <summary>The header carrying a shard's lowercase hex SHA-256 (on PUT requests and GET responses).</summary>
    public const string Sha256 = "X-Xmbl-Shard-Sha256";

    /// <summary>The JSON settings of shard endpoint bodies.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
