namespace Xmbl.Cluster;

/// <summary>
/// Thrown when a grain's state was changed by another writer between load and save (the optimistic version check
/// failed); the call's changes were not saved.
/// </summary>
/// <remarks>
/// The per-key lock makes this impossible within one runtime; it signals a writer outside the lock, for example a
/// second process writing the same SQLite file.
/// </remarks>
public sealed class InconsistentStateException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public InconsistentStateException()
        : base("The grain's state was changed by another writer.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The message.</param>
    public InconsistentStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InconsistentStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a failed version check.</summary>
    /// <param name="grainType">The grain type.</param>
    /// <param name="grainKey">The grain key.</param>
    /// <param name="expectedVersion">The version the writer loaded.</param>
    public InconsistentStateException(string grainType, string grainKey, long expectedVersion)
        : base($"The state of grain {grainType}/{grainKey} was changed by another writer after version {expectedVersion} was loaded; the call's changes were not saved.")
    {
        GrainType = grainType;
        GrainKey = grainKey;
        ExpectedVersion = expectedVersion;
    }

    /// <summary>The grain type, when known.</summary>
    public string? GrainType { get; }

    /// <summary>The grain key, when known.</summary>
    public string? GrainKey { get; }

    /// <summary>The version the writer loaded, when known.</summary>
    public long? ExpectedVersion { get; }
}
