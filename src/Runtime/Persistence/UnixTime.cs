namespace Xmbl.Cluster.Runtime.Persistence;

/// <summary>Timestamps as stored: whole milliseconds, UTC (both backends use this precision so they behave alike).</summary>
internal static class UnixTime
{
    public static long ToMs(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset Truncate(DateTimeOffset value) => FromMs(ToMs(value));
}
