namespace Xmbl.Cluster.Runtime.Core;

/// <summary>All grain registrations of one runtime, by interface and by grain type name.</summary>
internal sealed class GrainRegistry
{
    private readonly Dictionary<Type, GrainRegistration> _byInterface = [];
    private readonly Dictionary<string, GrainRegistration> _byType = new(StringComparer.Ordinal);

    public GrainRegistry(IEnumerable<GrainRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            if (_byType.TryGetValue(registration.GrainType, out var existing) && existing.InterfaceType != registration.InterfaceType)
            {
                throw new InvalidOperationException(
                    $"Grain interfaces {existing.InterfaceType.FullName} and {registration.InterfaceType.FullName} have the same name '{registration.GrainType}', " +
                    "which is the grain type stored in the database; rename one of them.");
            }

            // A later AddGrain for the same interface replaces the earlier one.
            _byInterface[registration.InterfaceType] = registration;
            _byType[registration.GrainType] = registration;
        }
    }

    public GrainRegistration Get(Type interfaceType) =>
        _byInterface.TryGetValue(interfaceType, out var registration)
            ? registration
            : throw new InvalidOperationException(
                $"No grain class is registered for grain interface {interfaceType.FullName}; add .AddGrain<{interfaceType.Name}, YourGrainClass>() to the AddGrainRuntime(...) call.");

    public bool TryGetByType(string grainType, out GrainRegistration registration) => _byType.TryGetValue(grainType, out registration!);

    public IEnumerable<GrainRegistration> All => _byInterface.Values;
}
