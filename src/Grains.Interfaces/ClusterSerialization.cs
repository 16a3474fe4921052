using System.Text.Json;
using Orleans.Serialization;

namespace Xmbl.Cluster.Grains.Interfaces;

/// <summary>How the cluster's types cross grain calls; silos and clients (the standalone gateway) both apply it.</summary>
/// <remarks>
/// Contracts in this project carry generated serializers. The storage library's types (object manifests) stay free
/// of Orleans, so they travel as System.Text.Json, the same form their grain state is stored in.
/// </remarks>
public static class ClusterSerialization
{
    /// <summary>The JSON options of grain state and of the storage library's types in calls.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.General) { WriteIndented = false };

    /// <summary>Adds the JSON codec for the storage library's types.</summary>
    /// <param name="serializer">The serializer builder.</param>
    /// <returns>The builder.</returns>
    public static ISerializerBuilder AddClusterSerialization(this ISerializerBuilder serializer) =>
        serializer.AddJsonSerializer(
            isSupported: static type => type.Namespace?.StartsWith("Xmbl.Cluster.Storage", StringComparison.Ordinal) == true,
            jsonSerializerOptions: JsonOptions);
}
