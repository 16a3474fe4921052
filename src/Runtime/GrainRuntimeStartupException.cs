namespace Xmbl.Cluster.Runtime;

/// <summary>The grain runtime could not start: the database is unreachable, unwritable or its schema cannot be created.</summary>
/// <remarks>Hosts turn this into a non-zero exit code; the message says what failed and how to fix it, without secrets.</remarks>
public sealed class GrainRuntimeStartupException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public GrainRuntimeStartupException()
        : base("The grain runtime could not start.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The message.</param>
    public GrainRuntimeStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public GrainRuntimeStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
