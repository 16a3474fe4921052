namespace Xmbl.Cluster.Runtime.Internal;

/// <summary>Log event ids of the grain runtime (range 1000-1999).</summary>
internal static class RuntimeEventId
{
    public const int StartingRuntime = 1000;
    public const int RuntimeStarted = 1001;
    public const int RuntimeStopped = 1002;
    public const int StartupFailed = 1003;
    public const int StateWritten = 1010;
    public const int SiloJoined = 1100;
    public const int SiloDeclaredDead = 1101;
    public const int LocalSiloDeclaredDead = 1102;
    public const int HeartbeatFailed = 1103;
    public const int SiloLeft = 1104;
    public const int ReminderDelivered = 1200;
    public const int ReminderFailed = 1201;
    public const int ReminderPollFailed = 1202;
    public const int ReminderForUnknownGrain = 1203;
    public const int NotificationListenerFailed = 1204;
}
