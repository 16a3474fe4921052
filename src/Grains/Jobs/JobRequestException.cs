namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Thrown when a job request is invalid; <see cref="Errors"/> names each bad field.</summary>
public sealed class JobRequestException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public JobRequestException()
        : this(new Dictionary<string, string[]>(StringComparer.Ordinal))
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public JobRequestException(string message)
        : base(message)
    {
        Errors = new Dictionary<string, string[]>(StringComparer.Ordinal) { [""] = [message] };
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public JobRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = new Dictionary<string, string[]>(StringComparer.Ordinal) { [""] = [message] };
    }

    /// <summary>Creates the exception for field errors.</summary>
    /// <param name="errors">Field name → messages.</param>
    public JobRequestException(IReadOnlyDictionary<string, string[]> errors)
        : base("The job request is invalid: " + string.Join("; ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))))
    {
        Errors = errors;
    }

    /// <summary>Field name → messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
}
