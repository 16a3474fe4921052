namespace Xmbl.Cluster;

/// <summary>Thrown when a grain's stored state cannot be read (corrupt or incompatible row); the grain is never given empty state instead.</summary>
public sealed class GrainStateException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public GrainStateException()
        : base("The grain's stored state could not be read.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The message.</param>
    public GrainStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public GrainStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for the grain <paramref name="grainType"/>/<paramref name="grainKey"/>.</summary>
    /// <param name="grainType">The grain type (the grain interface's name).</param>
    /// <param name="grainKey">The grain's key.</param>
    /// <param name="reason">Why the state could not be read.</param>
    /// <param name="innerException">The cause, if any.</param>
    public GrainStateException(string grainType, string grainKey, string reason, Exception? innerException = null)
        : base($"The stored state of grain {grainType}/{grainKey} cannot be read: {reason}", innerException)
    {
        GrainType = grainType;
        GrainKey = grainKey;
    }

    /// <summary>The grain type (the grain interface's name), when known.</summary>
    public string? GrainType { get; }

    /// <summary>The grain's key, when known.</summary>
    public string? GrainKey { get; }
}
