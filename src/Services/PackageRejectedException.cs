namespace Xmbl.Cluster.Services;

/// <summary>Why a package is refused.</summary>
public enum PackageRejection
{
    /// <summary>Not a readable ZIP, or an entry that cannot be read.</summary>
    Malformed,

    /// <summary>Over a size or count limit, or a zip bomb.</summary>
    TooLarge,

    /// <summary>An entry with an unsafe or duplicated name (path traversal, absolute path, same name twice).</summary>
    UnsafeEntry,

    /// <summary>The manifest breaks the schema.</summary>
    InvalidManifest,

    /// <summary>No signature.</summary>
    Unsigned,

    /// <summary>Signed by a key other than the manifest's author.</summary>
    WrongSigner,

    /// <summary>The signature does not verify over the manifest and the signed file hashes.</summary>
    BadSignature,

    /// <summary>A file differs from, is missing from, or is added to what was signed.</summary>
    Tampered,
}

/// <summary>A package that is refused; <see cref="Reason"/> says which rule it broke and the message says how.</summary>
public sealed class PackageRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">The rule broken.</param>
    /// <param name="message">How, in a sentence.</param>
    /// <param name="manifestErrors">The manifest's errors, for <see cref="PackageRejection.InvalidManifest"/>.</param>
    public PackageRejectedException(PackageRejection reason, string message, IReadOnlyList<ManifestError>? manifestErrors = null)
        : base(message)
    {
        Reason = reason;
        ManifestErrors = manifestErrors ?? [];
    }

    /// <summary>Creates the exception.</summary>
    public PackageRejectedException()
        : this(PackageRejection.Malformed, "The package is refused.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public PackageRejectedException(string message)
        : this(PackageRejection.Malformed, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PackageRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Reason = PackageRejection.Malformed;
        ManifestErrors = [];
    }

    /// <summary>The rule broken.</summary>
    public PackageRejection Reason { get; }

    /// <summary>The manifest's errors with their JSON paths, when the manifest is what is wrong.</summary>
    public IReadOnlyList<ManifestError> ManifestErrors { get; }

    /// <summary>The reason as the API and the CLI write it (<c>tampered</c>, <c>wrong-signer</c>, …).</summary>
    public string ReasonCode => Reason switch
    {
        PackageRejection.Malformed => "malformed",
        PackageRejection.TooLarge => "too-large",
        PackageRejection.UnsafeEntry => "unsafe-entry",
        PackageRejection.InvalidManifest => "invalid-manifest",
        PackageRejection.Unsigned => "unsigned",
        PackageRejection.WrongSigner => "wrong-signer",
        PackageRejection.BadSignature => "bad-signature",
        PackageRejection.Tampered => "tampered",
        _ => "refused",
    };
}
