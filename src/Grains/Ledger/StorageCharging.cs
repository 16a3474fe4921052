using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>
/// What one period charges each owner (docs/ledger.md, "Storage charges"): for every shard a manifest places on a
/// registered node that has not retired, shard bytes × the time the object was stored within the period × the node's
/// price per GB-month (GB = 10^9 bytes, month = 30 days), summed per owner and payee in integers and rounded down once
/// per owner and payee.
/// </summary>
public sealed class StorageCharging
{
    /// <summary>Bytes in a GB as prices count them.</summary>
    public const long BytesPerGb = 1_000_000_000;

    /// <summary>Milliseconds in a month as prices count them (30 days).</summary>
    public const long MillisecondsPerMonth = 30L * 24 * 60 * 60 * 1000;

    // Prices are taken to nano-xmbl.c per GB-month (9 decimals of xmbl.c; finer digits are dropped, in the owner's favour).
    private const long NanoPerXmbl = 1_000_000_000;
    private const long NanoPerMicro = 1_000;
    private static readonly Int128 Divisor = (Int128)BytesPerGb * MillisecondsPerMonth * NanoPerMicro;

    private readonly DateTimeOffset _from;
    private readonly DateTimeOffset _to;
    private readonly Dictionary<string, bool> _payable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Payee, long NanoPerGbMonth)> _nodes = new(StringComparer.Ordinal);

    // Per owner, per payee: the sum of bytes × milliseconds × nano-xmbl.c per GB-month, and the bytes held.
    private readonly Dictionary<string, Dictionary<string, (Int128 Cost, long Bytes)>> _owners = new(StringComparer.Ordinal);

    /// <summary>Starts a period's computation.</summary>
    /// <param name="from">The period's start.</param>
    /// <param name="to">The period's end; objects created at or after it are not charged in it.</param>
    /// <param name="nodes">The node registry: nodes that retired, or are not in it, are not paid.</param>
    public StorageCharging(DateTimeOffset from, DateTimeOffset to, IEnumerable<NodeInfo> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (to < from)
        {
            throw new ArgumentException("A period ends after it starts.", nameof(to));
        }

        _from = from;
        _to = to;
        foreach (var node in nodes)
        {
            if (!node.Retired)
            {
                _nodes[node.NodeId] = (JobEscrowRules.Payee(node.NodeId, node.Operator), NanoPrice(node.Prices.PerGbMonth));
            }
        }
    }

    /// <summary>A price in xmbl.c per GB-month as whole nano-xmbl.c, rounded down (negative prices count as 0).</summary>
    public static long NanoPrice(decimal perGbMonth) =>
        perGbMonth <= 0 ? 0 : (long)decimal.Min(decimal.Floor(perGbMonth * NanoPerXmbl), long.MaxValue);

    /// <summary>Adds an object as its manifest stands at the period's end.</summary>
    /// <param name="owner">The account charged.</param>
    /// <param name="manifest">Where its shards are.</param>
    public void Add(string owner, ObjectManifest manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(manifest);
        if (!_payable.TryGetValue(owner, out var payable))
        {
            // Only accounts (did:key) can be funded: the service library's own objects, and objects of no account, are not charged.
            payable = PublicIdentity.TryParseDid(owner, out _);
            _payable[owner] = payable;
        }

        if (!payable)
        {
            return;
        }

        var start = manifest.CreatedUtc > _from ? manifest.CreatedUtc : _from;
        if (start >= _to)
        {
            return;
        }

        var milliseconds = (long)(_to - start).TotalMilliseconds;
        Dictionary<string, (Int128 Cost, long Bytes)>? payees = null;
        foreach (var stripe in manifest.Stripes)
        {
            foreach (var shard in stripe.Shards)
            {
                if (!_nodes.TryGetValue(shard.NodeId, out var node) || string.Equals(node.Payee, owner, StringComparison.Ordinal))
                {
                    // Not a node of the registry (or it retired): nobody to pay. An operator's own objects on its own nodes: nothing to pay.
                    continue;
                }

                if (payees is null && !_owners.TryGetValue(owner, out payees))
                {
                    payees = new Dictionary<string, (Int128, long)>(StringComparer.Ordinal);
                    _owners[owner] = payees;
                }

                var sum = payees.GetValueOrDefault(node.Payee);
                payees[node.Payee] = (checked(sum.Cost + ((Int128)stripe.ShardLength * milliseconds * node.NanoPerGbMonth)), checked(sum.Bytes + stripe.ShardLength));
            }
        }
    }

    /// <summary>Each owner's lines, in owner order; lines that round down to 0 are left out, and owners left without lines too.</summary>
    public IEnumerable<(string Owner, IReadOnlyList<StorageChargeLine> Lines)> Charges()
    {
        foreach (var (owner, payees) in _owners.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var lines = new List<StorageChargeLine>(payees.Count);
            foreach (var (payee, sum) in payees.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var amount = checked((long)(sum.Cost / Divisor));
                if (amount >= 1)
                {
                    lines.Add(new StorageChargeLine(payee, amount, sum.Bytes));
                }
            }

            if (lines.Count > 0)
            {
                yield return (owner, lines);
            }
        }
    }
}
