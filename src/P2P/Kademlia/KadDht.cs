using System.Collections.Concurrent;
using System.Security.Cryptography;
using Xmbl.Cluster.P2P.Internal;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Kademlia;

/// <summary>The Kademlia DHT (<c>/ipfs/kad/1.0.0</c>) in server mode: answers FIND_NODE, GET_PROVIDERS and ADD_PROVIDER, and
/// finds peers and providers by iterative lookup.</summary>
/// <remarks>
/// Peers enter the routing table when Identify shows they serve <c>/ipfs/kad/1.0.0</c> (server mode), as in
/// js-libp2p, and when they answer our queries. Values (PUT_VALUE/GET_VALUE records) are not stored: GET_VALUE is
/// answered with closer peers only, PUT_VALUE is refused.
/// </remarks>
public sealed class KadDht
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/ipfs/kad/1.0.0";

    /// <summary>α: queries in flight per lookup round.</summary>
    public const int Alpha = 3;

    /// <summary>The largest message accepted: 64 KiB.</summary>
    public const int MaxMessageLength = 64 * 1024;

    /// <summary>Provider records kept per key.</summary>
    public const int MaxProvidersPerKey = KadRoutingTable.BucketSize;

    /// <summary>Keys with provider records kept in all.</summary>
    public const int MaxProviderKeys = 10_000;

    /// <summary>How long a provider record lives (the spec's 48 h).</summary>
    public static readonly TimeSpan ProviderRecordLifetime = TimeSpan.FromHours(48);

    /// <summary>How long one query waits for its reply.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    private readonly P2PHost _host;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<PeerId, (KadPeer Peer, DateTimeOffset Expires)>> _providers = new(StringComparer.Ordinal);

    /// <summary>Serves the DHT on <paramref name="host"/> and fills the routing table from its connections.</summary>
    public KadDht(P2PHost host, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _time = timeProvider ?? TimeProvider.System;
        Table = new KadRoutingTable(host.PeerId);
        host.Handle(ProtocolId, HandleAsync);
        host.ConnectionOpened += connection => _ = LearnAsync(connection);
    }

    /// <summary>The routing table.</summary>
    public KadRoutingTable Table { get; }

    /// <summary>Dials a known DHT peer, adds it to the table, and looks ourselves up to learn our neighbourhood.</summary>
    public async Task BootstrapAsync(Multiaddr address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var connection = await _host.DialAsync(address, cancellationToken);
        await LearnAsync(connection);
        await LookupAsync(_host.PeerId.Bytes.ToArray(), KadMessageType.FindNode, (_, _) => false, cancellationToken);
    }

    /// <summary>Asks one connected peer for the peers it knows closest to <paramref name="key"/>.</summary>
    public async Task<KadMessage> QueryAsync(P2PConnection connection, KadMessageType type, byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(key);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueryTimeout);
        await using var stream = await connection.OpenStreamAsync(ProtocolId, timeout.Token);
        await LengthPrefixed.WriteAsync(stream, new KadMessage(type, key, [], []).Encode(), timeout.Token);
        var reply = await LengthPrefixed.ReadAsync(stream.Input, MaxMessageLength, "kad", timeout.Token)
            ?? throw new P2PProtocolException("kad: the remote closed the stream without a reply.");
        var message = KadMessage.Decode(reply);
        return message.Type == type ? message : throw new P2PProtocolException($"kad: asked {type}, answered {message.Type}.");
    }

    /// <summary>Finds where <paramref name="peer"/> listens: from the table, else by asking ever closer peers.</summary>
    /// <returns>The peer with its addresses, or null when the lookup ran out of closer peers.</returns>
    public async Task<KadPeer?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (Table.Find(peer) is { Addresses.Count: > 0 } known)
        {
            return known;
        }

        KadPeer? found = null;
        await LookupAsync(peer.Bytes.ToArray(), KadMessageType.FindNode, (reply, _) =>
        {
            found = reply.CloserPeers.FirstOrDefault(p => p.Id.Equals(peer) && p.Addresses.Count > 0);
            return found is not null;
        }, cancellationToken);
        return found;
    }

    /// <summary>Announces us as a provider of <paramref name="key"/> to the closest peers; returns how many took it.</summary>
    public async Task<int> ProvideAsync(byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var self = new KadPeer(_host.PeerId, [.. _host.ListenAddresses.Select(a => a.WithoutPeerId())]);
        AddProvider(key, self);
        var closest = await LookupAsync(key, KadMessageType.FindNode, (_, _) => false, cancellationToken);
        var message = new KadMessage(KadMessageType.AddProvider, key, [], [self]).Encode();
        var sent = await Task.WhenAll(closest.Select(async peer =>
        {
            try
            {
                var connection = await _host.ConnectAsync(peer.Id, peer.Addresses, cancellationToken);
                await using var stream = await connection.OpenStreamAsync(ProtocolId, cancellationToken);
                await LengthPrefixed.WriteAsync(stream, message, cancellationToken);
                return true;
            }
            catch (Exception e) when (e is IOException or P2PProtocolException or TimeoutException or NotSupportedException or InvalidOperationException)
            {
                return false;
            }
        }));
        return sent.Count(s => s);
    }

    /// <summary>Finds providers of <paramref name="key"/>, stopping once <paramref name="enough"/> are known.</summary>
    public async Task<IReadOnlyList<KadPeer>> FindProvidersAsync(byte[] key, int enough, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var found = new Dictionary<PeerId, KadPeer>();
        foreach (var local in LocalProviders(key))
        {
            found[local.Id] = local;
        }

        if (found.Count < enough)
        {
            await LookupAsync(key, KadMessageType.GetProviders, (reply, _) =>
            {
                foreach (var provider in reply.ProviderPeers)
                {
                    found.TryAdd(provider.Id, provider);
                }

                return found.Count >= enough;
            }, cancellationToken);
        }

        return [.. found.Values];
    }

    /// <summary>The iterative lookup: query the α closest unqueried peers until the k closest have all answered, or
    /// <paramref name="stop"/> says so. Returns the closest peers that answered.</summary>
    private async Task<IReadOnlyList<KadPeer>> LookupAsync(byte[] key, KadMessageType type, Func<KadMessage, KadPeer, bool> stop, CancellationToken cancellationToken)
    {
        var comparer = new KadRoutingTable.DistanceComparer(SHA256.HashData(key));
        var candidates = new List<(KadPeer Peer, byte[] Hash)>();
        var seen = new HashSet<PeerId> { _host.PeerId };
        var queried = new HashSet<PeerId>();
        var answered = new List<(KadPeer Peer, byte[] Hash)>();
        foreach (var peer in Table.Nearest(key))
        {
            seen.Add(peer.Id);
            candidates.Add((peer, SHA256.HashData(peer.Id.Bytes)));
        }

        while (true)
        {
            candidates.Sort((a, b) => comparer.Compare(a.Hash, b.Hash));
            var batch = candidates.Take(KadRoutingTable.BucketSize).Where(c => !queried.Contains(c.Peer.Id)).Take(Alpha).ToList();
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var c in batch)
            {
                queried.Add(c.Peer.Id);
            }

            var replies = await Task.WhenAll(batch.Select(async c =>
            {
                try
                {
                    var connection = await _host.ConnectAsync(c.Peer.Id, c.Peer.Addresses, cancellationToken);
                    return (c, Reply: await QueryAsync(connection, type, key, cancellationToken));
                }
                catch (Exception e) when (e is IOException or P2PProtocolException or TimeoutException or NotSupportedException or InvalidOperationException or OperationCanceledException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return (c, Reply: (KadMessage?)null);
                }
            }));
            foreach (var (candidate, reply) in replies)
            {
                if (reply is null)
                {
                    Table.Remove(candidate.Peer.Id);
                    candidates.Remove(candidate);
                    continue;
                }

                answered.Add(candidate);
                if (stop(reply, candidate.Peer))
                {
                    return Closest(answered, comparer);
                }

                foreach (var closer in reply.CloserPeers)
                {
                    if (seen.Add(closer.Id) && closer.Addresses.Count > 0)
                    {
                        candidates.Add((closer, SHA256.HashData(closer.Id.Bytes)));
                    }
                }
            }
        }

        return Closest(answered, comparer);
    }

    private static List<KadPeer> Closest(List<(KadPeer Peer, byte[] Hash)> peers, KadRoutingTable.DistanceComparer comparer) =>
        [.. peers.OrderBy(p => p.Hash, comparer).Take(KadRoutingTable.BucketSize).Select(p => p.Peer)];

    private async Task HandleAsync(YamuxStream stream, P2PConnection connection, CancellationToken cancellationToken)
    {
        // A stream may carry several request/reply pairs; each request must arrive within the query timeout.
        while (true)
        {
            byte[]? request;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(QueryTimeout);
                request = await LengthPrefixed.ReadAsync(stream.Input, MaxMessageLength, "kad", timeout.Token);
            }

            if (request is null)
            {
                await stream.CloseWriteAsync();
                return;
            }

            var message = KadMessage.Decode(request);
            KadMessage? reply = message.Type switch
            {
                KadMessageType.FindNode or KadMessageType.GetValue => new KadMessage(message.Type, message.Key, Closer(message.Key, connection.RemotePeer), []),
                KadMessageType.GetProviders => new KadMessage(message.Type, message.Key, Closer(message.Key, connection.RemotePeer), LocalProviders(message.Key)),
                KadMessageType.Ping => message,
                KadMessageType.AddProvider => null,
                _ => throw new NotSupportedException("kad: PUT_VALUE is not supported (this DHT keeps no records)."),
            };
            if (message.Type == KadMessageType.AddProvider)
            {
                // Only the sender may announce itself; its addresses come from the message or the connection.
                foreach (var provider in message.ProviderPeers.Where(p => p.Id.Equals(connection.RemotePeer)))
                {
                    AddProvider(message.Key, provider.Addresses.Count > 0 ? provider : new KadPeer(provider.Id, [connection.RemoteAddress]));
                }
            }

            if (reply is not null)
            {
                await LengthPrefixed.WriteAsync(stream, reply.Encode(), cancellationToken);
            }
        }
    }

    private List<KadPeer> Closer(byte[] key, PeerId requester) =>
        [.. Table.Nearest(key, KadRoutingTable.BucketSize + 1).Where(p => !p.Id.Equals(requester) && p.Addresses.Count > 0).Take(KadRoutingTable.BucketSize)];

    private void AddProvider(byte[] key, KadPeer provider)
    {
        var name = Convert.ToHexString(key);
        if (!_providers.ContainsKey(name) && _providers.Count >= MaxProviderKeys)
        {
            return;
        }

        var records = _providers.GetOrAdd(name, _ => new ConcurrentDictionary<PeerId, (KadPeer, DateTimeOffset)>());
        if (records.Count < MaxProvidersPerKey || records.ContainsKey(provider.Id))
        {
            records[provider.Id] = (provider, _time.GetUtcNow() + ProviderRecordLifetime);
        }
    }

    private List<KadPeer> LocalProviders(byte[] key)
    {
        if (!_providers.TryGetValue(Convert.ToHexString(key), out var records))
        {
            return [];
        }

        var now = _time.GetUtcNow();
        foreach (var expired in records.Where(r => r.Value.Expires <= now).Select(r => r.Key).ToList())
        {
            records.TryRemove(expired, out _);
        }

        return [.. records.Values.Select(r => r.Peer)];
    }

    private async Task LearnAsync(P2PConnection connection)
    {
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            var info = await _host.IdentifyAsync(connection, timeout.Token);
            if (info.Protocols.Contains(ProtocolId))
            {
                var addresses = info.ListenAddresses.Count > 0 ? info.ListenAddresses : [connection.RemoteAddress];
                Table.AddOrUpdate(new KadPeer(connection.RemotePeer, addresses));
            }
        }
        catch (Exception e) when (e is IOException or P2PProtocolException or OperationCanceledException or NotSupportedException or InvalidOperationException)
        {
            // A peer that does not identify is simply not added.
        }
    }
}
