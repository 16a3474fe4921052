namespace Xmbl.Cluster.Storage.Objects;

/// <summary>What a read (or repair) ran into: the shards that could not be fetched, which the caller may hand to repair.</summary>
/// <param name="BytesWritten">The bytes written to the destination.</param>
/// <param name="StripesDecoded">How many stripes needed decoding because a data shard was missing or bad.</param>
/// <param name="FailedShards">The shards that were missing, corrupt or on unreachable nodes, with the reason.</param>
public sealed record ObjectReadResult(long BytesWritten, int StripesDecoded, IReadOnlyList<FailedShard> FailedShards);

/// <summary>A shard that could not be fetched.</summary>
/// <param name="StripeIndex">Its stripe.</param>
/// <param name="Shard">Its placement.</param>
/// <param name="Reason">The failure (exception type and message).</param>
public sealed record FailedShard(int StripeIndex, ShardPlacement Shard, string Reason);
