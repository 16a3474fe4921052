namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>Checks an export's arguments against its signature, the same way for every engine.</summary>
public static class WasmArguments
{
    /// <summary>Whether <paramref name="arguments"/> have the number and types <paramref name="type"/> takes.</summary>
    /// <param name="type">The export's signature.</param>
    /// <param name="arguments">The arguments.</param>
    /// <param name="problem">What is wrong, when they do not match.</param>
    /// <returns>True when they match.</returns>
    public static bool Match(FuncType type, IReadOnlyList<WasmValue> arguments, out string problem)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(arguments);
        problem = string.Empty;
        if (arguments.Count != type.Parameters.Count)
        {
            problem = $"the function takes {type.Parameters.Count} argument(s), {arguments.Count} given";
            return false;
        }

        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i].Type != type.Parameters[i])
            {
                problem = $"argument {i + 1} is a {arguments[i].Type.ToString().ToLowerInvariant()}, the function takes a {type.Parameters[i].ToString().ToLowerInvariant()}";
                return false;
            }
        }

        return true;
    }
}
