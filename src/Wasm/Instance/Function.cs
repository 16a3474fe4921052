using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>A WebAssembly function (defined by a module or provided by the host) bound to a store.</summary>
/// <remarks>
/// Calls from the host run on a dedicated guest thread with a large stack (see <c>GuestThread</c>); calls made from
/// inside a host function run inline. Traps surface as <see cref="WasmTrapException"/>; a host function's
/// <see cref="WasmExitException"/> propagates unchanged.
/// </remarks>
public sealed class Function
{
    // Read by generated code: canonical signature id, code pointer (static R f(params..., int depth, InstanceContext))
    // and context. Code is 0 until a lazily translated function is first called (see EntryPoint).
    internal readonly int TypeId;
    internal nint Code;
    internal readonly InstanceContext Context;
    internal readonly HostFunction? Host;

    /// <summary>For a function defined by a module: its defined-function index in <see cref="InstanceContext.Code"/>.</summary>
    internal readonly int DefinedIndex;

    internal Function(FuncType type, nint code, InstanceContext context, HostFunction? host)
        : this(type, FuncTypeRegistry.GetId(type), code, context, host)
    {
    }

    internal Function(FuncType type, int typeId, nint code, InstanceContext context, HostFunction? host, int definedIndex = -1)
    {
        Type = type;
        TypeId = typeId;
        Code = code;
        Context = context;
        Host = host;
        DefinedIndex = definedIndex;
    }

    /// <summary>The function's signature.</summary>
    public FuncType Type { get; }

    /// <summary>The store the function belongs to.</summary>
    public Store Store => Context.Store;

    /// <summary>Whether the host provides this function.</summary>
    public bool IsHostFunction => Host is not null;

    /// <summary>Calls the function.</summary>
    /// <param name="args">Arguments, matching <see cref="FuncType.Parameters"/>.</param>
    /// <param name="results">Receives the results; its length must be at least the number of results.</param>
    /// <exception cref="WasmTrapException">The call trapped.</exception>
    /// <exception cref="WasmExitException">A host function asked to exit.</exception>
    public void Invoke(ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
    {
        CheckArguments(args, results.Length);
        if (GuestThread.IsCurrent)
        {
            InvokeCore(args, results);
            return;
        }

        var argCopy = args.ToArray();
        var resultCopy = new WasmValue[Type.Results.Count];
        GuestThread.Run(() => InvokeCore(argCopy, resultCopy));
        resultCopy.CopyTo(results);
    }

    /// <summary>Calls the function and returns its results.</summary>
    /// <param name="args">Arguments, matching <see cref="FuncType.Parameters"/>.</param>
    /// <returns>The results.</returns>
    /// <exception cref="WasmTrapException">The call trapped.</exception>
    /// <exception cref="WasmExitException">A host function asked to exit.</exception>
    public WasmValue[] Invoke(params WasmValue[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var results = new WasmValue[Type.Results.Count];
        Invoke(args, results);
        return results;
    }

    /// <inheritdoc/>
    public override string ToString() => (Host is null ? "wasm function " : "host function ") + Type;

    /// <summary>The function's code pointer; translates a module function on its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint EntryPoint(Function function)
    {
        var code = function.Code;
        return code != 0 ? code : function.ResolveEntryPoint();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint ResolveEntryPoint()
    {
        // Idempotent: racing threads store the same pointer.
        var code = Context.Code!.GetEntry(DefinedIndex);
        Code = code;
        return code;
    }

    private void CheckArguments(ReadOnlySpan<WasmValue> args, int resultLength)
    {
        var parameters = Type.ParameterSpan;
        if (args.Length != parameters.Length)
        {
            throw new ArgumentException($"Expected {parameters.Length} arguments, got {args.Length}.", nameof(args));
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            if (args[i].Type != parameters[i])
            {
                throw new ArgumentException($"Argument {i} must be {parameters[i].ToWatName()}, got {args[i].Type.ToWatName()}.", nameof(args));
            }
        }

        if (resultLength < Type.Results.Count)
        {
            throw new ArgumentException($"The results span needs room for {Type.Results.Count} values.", "results");
        }
    }

    private void InvokeCore(ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
    {
        var store = Context.Store;
        var scope = store.EnterCall();
        try
        {
            if (Host is not null)
            {
                HostCalls.InvokeHost(this, args, results);
                return;
            }

            var parameters = Type.ParameterSpan;
            var resultTypes = Type.ResultSpan;
            store.EnsureResultCapacity(Math.Max(parameters.Length, resultTypes.Length));
            for (var i = 0; i < args.Length; i++)
            {
                store.ResultBits[i] = args[i].Bits;
                store.ResultRefs[i] = args[i].Ref;
            }

            if (store.Interrupt != 0)
            {
                throw new WasmTrapException(TrapKind.Timeout);
            }

            Invokers.Get(Type)(EntryPoint(this), Context, store);

            // The generated code holds raw memory pointers; keep the instance (and so its memories) alive until here.
            GC.KeepAlive(Context);
            for (var i = 0; i < resultTypes.Length; i++)
            {
                results[i] = resultTypes[i].IsReference()
                    ? WasmValue.FromRef(resultTypes[i], store.ResultRefs[i])
                    : WasmValue.FromBits(resultTypes[i], store.ResultBits[i]);
                store.ResultRefs[i] = null;
            }
        }
        catch (InsufficientExecutionStackException)
        {
            throw new WasmTrapException(TrapKind.CallStackExhausted);
        }
        finally
        {
            store.ExitCall(scope);
        }
    }
}
