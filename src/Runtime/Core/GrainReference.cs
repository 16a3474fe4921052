using System.Reflection;

namespace Xmbl.Cluster.Runtime.Core;

/// <summary>What a grain proxy knows: the grain's identity and the runtime that carries out its calls.</summary>
internal sealed class GrainReference(GrainRuntime runtime, GrainRegistration registration, GrainId id)
{
    public GrainRuntime Runtime { get; } = runtime;

    public GrainRegistration Registration { get; } = registration;

    public GrainId Id { get; } = id;
}

/// <summary>The object handed out by <see cref="IGrainFactory"/>: every interface method becomes a grain call.</summary>
/// <remarks>Not sealed: <see cref="DispatchProxy"/> derives a type from it per grain interface.</remarks>
#pragma warning disable CA1852 // DispatchProxy derives from it at run time.
internal class GrainProxy : DispatchProxy
#pragma warning restore CA1852
{
    internal GrainReference Reference { get; set; } = null!;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return Reference.Registration.Descriptor.GetInvoker(targetMethod).StartCall(Reference, args ?? []);
    }

    public override string ToString() => $"GrainReference({Reference.Id})";
}
