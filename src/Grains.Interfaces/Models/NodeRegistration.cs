namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>A node's announcement of itself.</summary>
/// <param name="NodeId">The node's identity (<c>did:key:…</c>); also the grain key.</param>
/// <param name="SiloId">The silo process hosting the node.</param>
/// <param name="Address">Where other members reach the node (the silo's base URL).</param>
/// <param name="Operator">Who runs the node (an account identity or a free-form operator name).</param>
/// <param name="Resources">What the node offers.</param>
/// <param name="Prices">What the node charges.</param>
/// <param name="At">When the announcement was made.</param>
/// <param name="Edge">True for an edge node: a public peer serving through the gateway's libp2p bridge (docs/p2p.md).</param>
/// <param name="Relayed">True for an edge node served by a standalone gateway: its work goes through its
/// <c>IEdgeRelayGrain</c>, not a silo's node host, and <paramref name="SiloId"/> names the gateway.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeRegistration")]
public sealed record NodeRegistration(
    string NodeId,
    string SiloId,
    string Address,
    string Operator,
    NodeResources Resources,
    NodePrices Prices,
    DateTimeOffset At,
    bool Edge = false,
    bool Relayed = false);
