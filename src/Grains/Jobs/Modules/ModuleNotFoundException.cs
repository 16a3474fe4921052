namespace Xmbl.Cluster.Grains.Jobs.Modules;

/// <summary>Thrown when a module hash names no uploaded module.</summary>
public sealed class ModuleNotFoundException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ModuleNotFoundException()
        : base("The module was not found.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ModuleNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ModuleNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
