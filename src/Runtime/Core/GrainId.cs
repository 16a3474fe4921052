namespace Xmbl.Cluster.Runtime.Core;

/// <summary>Identifies one grain: its type (the grain interface's name) and key.</summary>
internal readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
