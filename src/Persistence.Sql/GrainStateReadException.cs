namespace Xmbl.Cluster.Persistence.Sql;

/// <summary>A stored grain state cannot be read (corrupt row, or a state type that no longer fits it); names the state and key.</summary>
public sealed class GrainStateReadException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public GrainStateReadException()
        : base("A stored grain state could not be read.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    public GrainStateReadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    public GrainStateReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the row of <paramref name="stateName"/>/<paramref name="grainKey"/>.</summary>
    /// <param name="stateName">The state name.</param>
    /// <param name="grainKey">The grain's key.</param>
    /// <param name="stateType">The type the row was read as.</param>
    /// <param name="innerException">The deserializer's error.</param>
    public GrainStateReadException(string stateName, string grainKey, Type stateType, Exception innerException)
        : base($"The stored state '{stateName}' of grain key '{grainKey}' cannot be read as {stateType.Name}: {innerException.Message}", innerException)
    {
        StateName = stateName;
        GrainKey = grainKey;
    }

    /// <summary>The state name, when known.</summary>
    public string? StateName { get; }

    /// <summary>The grain's key, when known.</summary>
    public string? GrainKey { get; }
}
