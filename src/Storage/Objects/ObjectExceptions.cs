namespace Xmbl.Cluster.Storage.Objects;

/// <summary>The object is larger than allowed (HTTP 413).</summary>
public sealed class ObjectTooLargeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ObjectTooLargeException(long maxSize)
        : base($"The object is larger than the allowed {maxSize} bytes.") => MaxSize = maxSize;

    /// <summary>The limit that was passed.</summary>
    public long MaxSize { get; }
}

/// <summary>A stripe has fewer than k readable shards: the object (or that part of it) cannot be read.</summary>
public sealed class ObjectUnreadableException : IOException
{
    /// <summary>Creates the exception for <paramref name="stripeIndex"/>.</summary>
    public ObjectUnreadableException(string objectName, int stripeIndex, int healthy, int required, Exception? lastFailure)
        : base($"Stripe {stripeIndex} of '{objectName}' has only {healthy} readable shards of the {required} needed.", lastFailure)
    {
        StripeIndex = stripeIndex;
    }

    /// <summary>The stripe that could not be read.</summary>
    public int StripeIndex { get; }
}

/// <summary>Bytes do not hash to what they should: an upload whose content differs from its announced SHA-256, or a read whose whole-object hash differs from the manifest.</summary>
public sealed class ObjectCorruptException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ObjectCorruptException(string message)
        : base(message)
    {
    }
}

/// <summary>The placement policy found too few nodes with room for a stripe's shards.</summary>
public sealed class InsufficientShardNodesException : IOException
{
    /// <summary>Creates the exception.</summary>
    public InsufficientShardNodesException(string message)
        : base(message)
    {
    }
}
