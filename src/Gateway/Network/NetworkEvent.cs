namespace Xmbl.Cluster.Gateway.Network;

/// <summary>One change seen by the feed.</summary>
/// <param name="Id">Increases by one per event of this gateway's feed.</param>
/// <param name="Kind">One of <see cref="NetworkEventKinds"/>.</param>
/// <param name="Key">What changed within the kind (a job id), or null for kinds with one value.</param>
/// <param name="Payload">The new value (a view record).</param>
/// <param name="Json">The payload as compact UTF-8 JSON (camelCase, enums as strings), serialized once for every stream.</param>
public sealed record NetworkEvent(long Id, string Kind, string? Key, object Payload, ReadOnlyMemory<byte> Json)
{
    private byte[]? _serverSentEvent;

    /// <summary>The event as one server-sent event (<c>id</c>, <c>event</c>, <c>data</c> lines), built once for all streams.</summary>
    internal ReadOnlyMemory<byte> ServerSentEvent => _serverSentEvent ??= BuildServerSentEvent();

    private byte[] BuildServerSentEvent()
    {
        // The payload is compact JSON: no newline, so one data line.
        var header = System.Text.Encoding.ASCII.GetBytes($"id: {Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}\nevent: {Kind}\ndata: ");
        var frame = new byte[header.Length + Json.Length + 2];
        header.CopyTo(frame, 0);
        Json.Span.CopyTo(frame.AsSpan(header.Length));
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }
}

/// <summary>The kinds of <see cref="NetworkEvent"/>.</summary>
public static class NetworkEventKinds
{
    /// <summary>Silos and nodes (<c>GET /api/cluster</c>'s view).</summary>
    public const string Cluster = "cluster";

    /// <summary>One job (<c>GET /api/jobs/{id}</c>'s view), keyed by its id.</summary>
    public const string Job = "job";

    /// <summary>Objects with their shard health per stripe.</summary>
    public const string Objects = "objects";

    /// <summary>Repair passes: running now, and the last one's result.</summary>
    public const string Repair = "repair";

    /// <summary>Supply and accounts.</summary>
    public const string Ledger = "ledger";

    /// <summary>How many kinds have a single value (all but jobs): part of a new stream's snapshot.</summary>
    public const int Snapshots = 4;
}
