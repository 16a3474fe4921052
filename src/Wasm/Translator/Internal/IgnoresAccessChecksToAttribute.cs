namespace System.Runtime.CompilerServices;

/// <summary>
/// Recognized by the runtime (by name): applied to a dynamic assembly, it lets that assembly's code use internal types
/// and members of the named assembly. The generated wasm code uses it to read engine internals without reflection.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    public IgnoresAccessChecksToAttribute(string assemblyName)
    {
        AssemblyName = assemblyName;
    }

    public string AssemblyName { get; }
}
