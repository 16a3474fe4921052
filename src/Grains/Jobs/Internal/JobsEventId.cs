namespace Xmbl.Cluster.Grains.Jobs.Internal;

/// <summary>Log event ids of the compute subsystem: 5000-5099.</summary>
internal static class JobsEventId
{
    public const int ExecutorStarted = 5000;
    public const int RunFailed = 5001;
    public const int ReportRejected = 5002;
    public const int ReportFailed = 5003;
    public const int PendingRetryFailed = 5004;
    public const int NodeRefreshFailed = 5005;
    public const int ReputationFlushFailed = 5006;
    public const int PollFailed = 5007;
    public const int Recovered = 5008;
    public const int LyingNode = 5009;
    public const int DispatchFailed = 5010;
    public const int TickFailed = 5011;
    public const int SweepFailed = 5012;
    public const int Swept = 5013;
    public const int NotHostedHere = 5014;

    // Executor hardening (stuck runs, memory admission, poisonous jobs).
    public const int RunStuck = 5020;
    public const int StuckRunReturned = 5021;
    public const int NodeUnhealthy = 5022;
    public const int NodeHealthyAgain = 5023;
    public const int RunDeclined = 5024;
    public const int RecoveryFailed = 5025;
    public const int NotRecovered = 5026;

    // Edge nodes (the libp2p bridge).
    public const int EdgeAttached = 5080;
    public const int EdgeDetached = 5081;
    public const int EdgeRetireFailed = 5082;
    public const int EdgeReported = 5083;
    public const int EdgeNotReported = 5084;

    // Edge nodes behind a standalone gateway (the relay grain).
    public const int EdgeRelayLost = 5085;
    public const int EdgeRelayNotDelivered = 5086;
    public const int EdgeRelayRetireFailed = 5087;
}
