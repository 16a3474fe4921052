using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A job's escrow: its hold on the submitter's account and how it ended.</summary>
/// <param name="Account">The account that holds it (the submitter).</param>
/// <param name="Held">Micro-xmbl.c held at submission: (1 + validators) × fuel limit × maximum price per million fuel.</param>
/// <param name="Payouts">What was paid, once settled (empty before).</param>
/// <param name="Refunded">Micro-xmbl.c returned to the submitter, once settled.</param>
/// <param name="Settled">Whether the hold has ended (payouts plus refund equal <paramref name="Held"/>).</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobEscrow")]
public sealed record JobEscrow(string Account, long Held, IReadOnlyList<EscrowPayout> Payouts, long Refunded, bool Settled);
