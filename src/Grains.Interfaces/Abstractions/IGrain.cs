namespace Xmbl.Cluster;

/// <summary>Marker interface for every grain interface; grain interfaces derive from a keyed variant of it.</summary>
/// <remarks>
/// Every method of a grain interface must return <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>. Each call runs as one database transaction on the
/// grain's row: single writer per key across all processes.
/// </remarks>
public interface IGrain
{
}
