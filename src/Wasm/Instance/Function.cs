namespace Xmbl.Cluster.Wasm;

/// <summary>A WebAssembly function (defined by a module or provided by the host) bound to a store.</summary>
public sealed partial class Function
{
    internal Function(FuncType type)
    {
        Type = type;
    }

    /// <summary>The function's signature.</summary>
    public FuncType Type { get; }
}
