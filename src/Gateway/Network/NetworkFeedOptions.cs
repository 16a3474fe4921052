using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.Network;

/// <summary>The network page's live feed (<c>GET /api/network/events</c>): section <c>Xmbl:Gateway:Network</c>.</summary>
public sealed class NetworkFeedOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Gateway:Network";

    /// <summary>Default <see cref="MaxStreams"/>.</summary>
    public const int DefaultMaxStreams = 64;

    /// <summary>Default <see cref="StreamBuffer"/>.</summary>
    public const int DefaultStreamBuffer = 256;

    /// <summary>Default <see cref="RecentJobs"/>.</summary>
    public const int DefaultRecentJobs = 50;

    /// <summary>Default <see cref="MaxObjects"/>.</summary>
    public const int DefaultMaxObjects = 200;

    /// <summary>Default <see cref="MaxAccounts"/>.</summary>
    public const int DefaultMaxAccounts = 50;

    /// <summary>Default <see cref="MaxScannedRows"/>.</summary>
    public const int DefaultMaxScannedRows = 10_000;

    /// <summary>Default <see cref="Heartbeat"/>.</summary>
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(15);

    /// <summary>Default <see cref="RefreshPeriod"/>.</summary>
    public static readonly TimeSpan DefaultRefreshPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Default <see cref="SlowRefreshPeriod"/>.</summary>
    public static readonly TimeSpan DefaultSlowRefreshPeriod = TimeSpan.FromSeconds(5);

    /// <summary>The most event streams open at once on this gateway; one more is a 503 with <c>Retry-After</c>.</summary>
    public int MaxStreams { get; set; } = DefaultMaxStreams;

    /// <summary>Events queued per stream; a client that falls this far behind is disconnected and resumes from a fresh snapshot when it reconnects.</summary>
    public int StreamBuffer { get; set; } = DefaultStreamBuffer;

    /// <summary>How often an idle stream sends a comment, so proxies and clients see it alive.</summary>
    public TimeSpan Heartbeat { get; set; } = DefaultHeartbeat;

    /// <summary>How often the feed reads the cluster (silos, nodes) and new jobs while any stream is open.</summary>
    public TimeSpan RefreshPeriod { get; set; } = DefaultRefreshPeriod;

    /// <summary>How often it reads objects, the ledger and repairs (listings that scan stored state).</summary>
    public TimeSpan SlowRefreshPeriod { get; set; } = DefaultSlowRefreshPeriod;

    /// <summary>The latest jobs the feed shows and watches for changes (one long poll each while not final).</summary>
    public int RecentJobs { get; set; } = DefaultRecentJobs;

    /// <summary>The most objects the feed shows (in key order, namespaces anyone may list).</summary>
    public int MaxObjects { get; set; } = DefaultMaxObjects;

    /// <summary>The most accounts the feed shows (largest balances first).</summary>
    public int MaxAccounts { get; set; } = DefaultMaxAccounts;

    /// <summary>The most stored rows one listing reads (jobs, objects, accounts); beyond it the feed shows what it read and says so.</summary>
    public int MaxScannedRows { get; set; } = DefaultMaxScannedRows;
}

/// <summary>Checks <see cref="NetworkFeedOptions"/> at start; a bad value stops the host naming the key.</summary>
internal sealed class NetworkFeedOptionsValidator : IValidateOptions<NetworkFeedOptions>
{
    public ValidateOptionsResult Validate(string? name, NetworkFeedOptions options)
    {
        var failures = new List<string>();
        Check(options.MaxStreams, 1, 10_000, nameof(NetworkFeedOptions.MaxStreams));
        Check(options.RecentJobs, 1, 1000, nameof(NetworkFeedOptions.RecentJobs));
        Check(options.MaxObjects, 0, 10_000, nameof(NetworkFeedOptions.MaxObjects));
        Check(options.MaxAccounts, 0, 10_000, nameof(NetworkFeedOptions.MaxAccounts));
        Check(options.MaxScannedRows, 1, 1_000_000, nameof(NetworkFeedOptions.MaxScannedRows));

        // A new stream first gets the snapshot: one event per job and one per other kind must fit its queue.
        var minimumBuffer = options.RecentJobs + NetworkEventKinds.Snapshots;
        Check(options.StreamBuffer, minimumBuffer, 100_000, nameof(NetworkFeedOptions.StreamBuffer) + " (at least RecentJobs + " + NetworkEventKinds.Snapshots + ")");
        Period(options.Heartbeat, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), nameof(NetworkFeedOptions.Heartbeat));
        Period(options.RefreshPeriod, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), nameof(NetworkFeedOptions.RefreshPeriod));
        Period(options.SlowRefreshPeriod, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(NetworkFeedOptions.SlowRefreshPeriod));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(int value, int min, int max, string key)
        {
            if (value < min || value > max)
            {
                failures.Add($"{NetworkFeedOptions.SectionName}:{key} must be from {min} to {max} (got {value}).");
            }
        }

        void Period(TimeSpan value, TimeSpan min, TimeSpan max, string key)
        {
            if (value < min || value > max)
            {
                failures.Add($"{NetworkFeedOptions.SectionName}:{key} must be from {min} to {max} (got {value}).");
            }
        }
    }
}
