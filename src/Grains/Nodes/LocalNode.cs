using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>A node hosted by this silo: its index, identity and data folder.</summary>
/// <param name="Index">Position among the silo's nodes, from 0.</param>
/// <param name="Key">The node's signing key; its public half is the node id.</param>
/// <param name="Directory">The node's own folder (identity, shard volume, compiled-module cache).</param>
public sealed record LocalNode(int Index, Ed25519KeyPair Key, string Directory)
{
    /// <summary>The node id (<c>did:key:…</c>).</summary>
    public string Id => Key.PublicKey.Did;
}
