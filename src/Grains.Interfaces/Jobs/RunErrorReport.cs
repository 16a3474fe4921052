namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A node's report that it could not run an assignment at all (its runner failed), instead of a result.</summary>
/// <param name="AssignmentId">The assignment.</param>
/// <param name="NodeId">The reporting node.</param>
/// <param name="Reason">What went wrong, e.g. the exception's type and message; nodes that fail the same way send the same text.</param>
[GenerateSerializer, Immutable, Alias("xmbl.RunErrorReport")]
public sealed record RunErrorReport(int AssignmentId, string NodeId, string Reason);
