using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster.Runtime.Core;

/// <summary>A grain interface bound to its implementation class, as registered by <c>AddGrain</c>.</summary>
internal sealed class GrainRegistration
{
    private readonly Lazy<ObjectFactory> _factory;
    private readonly Lazy<GrainInterfaceDescriptor> _descriptor;

    public GrainRegistration(Type interfaceType, Type implementationType, GrainInterfaceDescriptor? descriptor = null)
    {
        InterfaceType = interfaceType;
        ImplementationType = implementationType;
        GrainType = interfaceType.Name;
        _factory = new Lazy<ObjectFactory>(() => ActivatorUtilities.CreateFactory(implementationType, Type.EmptyTypes));
        _descriptor = descriptor is not null
            ? new Lazy<GrainInterfaceDescriptor>(descriptor)
            : new Lazy<GrainInterfaceDescriptor>(() => GrainInterfaceDescriptor.Create(interfaceType));
    }

    public Type InterfaceType { get; }

    public Type ImplementationType { get; }

    /// <summary>The grain type stored in the database: the interface's simple name.</summary>
    public string GrainType { get; }

    public bool IsRemindable => typeof(IRemindable).IsAssignableFrom(InterfaceType);

    public GrainInterfaceDescriptor Descriptor => _descriptor.Value;

    public Grain CreateInstance(IServiceProvider services) => (Grain)_factory.Value(services, null);

    /// <summary>Checks the pair and builds the interface's invokers (which fails with a clear message on a bad method).</summary>
    public static GrainInterfaceDescriptor Validate(Type interfaceType, Type implementationType)
    {
        if (!interfaceType.IsInterface)
        {
            throw new ArgumentException($"{interfaceType.FullName} is not an interface; AddGrain<TGrainInterface, TGrain> takes the grain interface first.", nameof(interfaceType));
        }

        var stringKey = typeof(IGrainWithStringKey).IsAssignableFrom(interfaceType);
        var guidKey = typeof(IGrainWithGuidKey).IsAssignableFrom(interfaceType);
        if (stringKey == guidKey)
        {
            throw new ArgumentException($"Grain interface {interfaceType.FullName} must derive from exactly one of IGrainWithStringKey or IGrainWithGuidKey.", nameof(interfaceType));
        }

        if (!typeof(Grain).IsAssignableFrom(implementationType) || implementationType.IsAbstract || !interfaceType.IsAssignableFrom(implementationType))
        {
            throw new ArgumentException($"{implementationType.FullName} must be a non-abstract class deriving from Grain (or Grain<TState>) and implementing {interfaceType.FullName}.", nameof(implementationType));
        }

        return GrainInterfaceDescriptor.Create(interfaceType);
    }

    public static bool HasStringKey(Type interfaceType) => typeof(IGrainWithStringKey).IsAssignableFrom(interfaceType);

    internal static IEnumerable<MethodInfo> AllInterfaceMethods(Type interfaceType) =>
        new[] { interfaceType }.Concat(interfaceType.GetInterfaces()).SelectMany(i => i.GetMethods());
}
