using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// The JSON of final jobs, as <c>GET /api/jobs/{id}</c> answers it. A final job never changes again (the state machine
/// refuses every report, recovery, note or cancel once a job is settled, failed or cancelled), so its answer can be kept:
/// clients poll a job until it is final and keep reading it after, and each read would otherwise be a database read and
/// two JSON conversions. Jobs not final are always read fresh. Bounded by <see cref="GatewayOptions.FinalJobCacheEntries"/>
/// in two generations: when the newer one is half full it becomes the older one and the oldest is dropped, so a lookup
/// and an insert stay O(1) without an LRU list to lock.
/// </summary>
internal sealed class FinalJobViews(IOptions<GatewayOptions> gateway, IOptions<JsonOptions> json)
{
    private readonly int _generationSize = gateway.Value.FinalJobCacheEntries / 2;
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;
    private readonly Lock _rotate = new();
    private ConcurrentDictionary<string, byte[]> _newer = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, byte[]> _older = new(StringComparer.Ordinal);

    public bool TryGet(string id, out byte[] body)
    {
        if (_newer.TryGetValue(id, out body!))
        {
            return true;
        }

        if (_older.TryGetValue(id, out body!))
        {
            Add(id, body);
            return true;
        }

        return false;
    }

    /// <summary>The job's answer; kept when the job is final.</summary>
    public byte[] Serialize(JobRecord job)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(JobView.From(job), _json);
        if (job.IsFinal && _generationSize > 0)
        {
            Add(job.Id, body);
        }

        return body;
    }

    private void Add(string id, byte[] body)
    {
        var newer = _newer;
        newer[id] = body;
        if (newer.Count >= _generationSize)
        {
            lock (_rotate)
            {
                if (ReferenceEquals(newer, _newer))
                {
                    _older = newer;
                    _newer = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
                }
            }
        }
    }
}
