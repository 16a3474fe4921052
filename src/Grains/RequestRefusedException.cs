namespace Xmbl.Cluster.Grains;

/// <summary>Why an application service refused a request; each transport maps it to one status (docs/api.md, "gRPC").</summary>
public enum RefusalKind
{
    /// <summary>A field's value breaks a rule (REST 400, gRPC INVALID_ARGUMENT with <c>xmbl-field</c>).</summary>
    Invalid,

    /// <summary>The caller may not do this (REST 403, gRPC PERMISSION_DENIED).</summary>
    Forbidden,

    /// <summary>What the request names does not exist (REST 404, gRPC NOT_FOUND).</summary>
    NotFound,

    /// <summary>The target's state forbids it now (REST 409, gRPC FAILED_PRECONDITION).</summary>
    Conflict,

    /// <summary>A part of the cluster the request needs cannot be reached (REST 503, gRPC UNAVAILABLE).</summary>
    Unavailable,
}

/// <summary>
/// An application service refused a request before changing anything. The REST endpoints and the gRPC services both
/// call these services and only translate this into their status: the rule and its message live in one place.
/// </summary>
public sealed class RequestRefusedException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public RequestRefusedException()
        : this(RefusalKind.Invalid, "The request was refused.")
    {
    }

    /// <summary>Creates an <see cref="RefusalKind.Invalid"/> refusal.</summary>
    /// <param name="message">What the client reads.</param>
    public RequestRefusedException(string message)
        : this(RefusalKind.Invalid, message)
    {
    }

    /// <summary>Creates an <see cref="RefusalKind.Invalid"/> refusal with a cause.</summary>
    /// <param name="message">What the client reads.</param>
    /// <param name="innerException">The cause.</param>
    public RequestRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = RefusalKind.Invalid;
    }

    /// <summary>Creates the refusal.</summary>
    /// <param name="kind">Which kind.</param>
    /// <param name="message">What the client reads.</param>
    /// <param name="field">The request field at fault, in camelCase (gRPC reports it in the .proto's snake_case as <c>xmbl-field</c>), if one is.</param>
    public RequestRefusedException(RefusalKind kind, string message, string? field = null)
        : base(message)
    {
        Kind = kind;
        Field = field;
    }

    /// <summary>Which kind.</summary>
    public RefusalKind Kind { get; }

    /// <summary>The request field at fault, or null.</summary>
    public string? Field { get; }

    /// <summary>A field's value is invalid.</summary>
    public static RequestRefusedException Invalid(string field, string message) => new(RefusalKind.Invalid, message, field);

    /// <summary>The caller may not do this.</summary>
    public static RequestRefusedException Forbidden(string message) => new(RefusalKind.Forbidden, message);

    /// <summary>What the request names does not exist.</summary>
    public static RequestRefusedException NotFound(string message) => new(RefusalKind.NotFound, message);
}
