namespace Xmbl.Cluster.Grains.Jobs.Modules;

/// <summary>Thrown when uploaded bytes are not a valid WebAssembly module (or exceed the size limit).</summary>
public sealed class ModuleRejectedException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ModuleRejectedException()
        : base("The module was rejected.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Why the module was rejected.</param>
    public ModuleRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">Why the module was rejected.</param>
    /// <param name="innerException">The cause.</param>
    public ModuleRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
