using System.Reflection;
using System.Reflection.Emit;

namespace Xmbl.Cluster.Wasm;

/// <summary>A label in an <see cref="IlBuffer"/>.</summary>
internal readonly record struct IlLabel(int Index);

/// <summary>A local variable in an <see cref="IlBuffer"/>.</summary>
internal readonly record struct IlLocal(int Index, Type Type);

/// <summary>
/// A thin layer over <see cref="ILGenerator"/> for translated functions. <see cref="ILGenerator"/> resolves a metadata
/// token (a signature blob plus native metadata calls) on every field, type or method operand, which dominated
/// translation time; this layer resolves each member once per module (<see cref="TokenCache"/>) and emits the
/// token directly. That path is only used where the opcode's fixed stack effect is exact (fields, types, and calls
/// that pop as many values as they push), so the generator's max-stack computation stays right; other calls take
/// the regular path.
/// </summary>
internal sealed class IlBuffer
{
    private readonly ILGenerator _il;
    private readonly TokenCache _tokens;
    private readonly List<LocalBuilder> _locals = [];
    private readonly List<Label> _labels = [];

    public IlBuffer(ILGenerator il, TokenCache tokens)
    {
        _il = il;
        _tokens = tokens;
    }

    /// <summary>The translator's operand (type) stack; each emitted branch adds its depth to <see cref="SpillSlots"/>.</summary>
    public List<WasmValueType>? OperandStack { get; set; }

    /// <summary>Sum of the operand-stack depth at every emitted branch (a bound on the JIT's spill temporaries).</summary>
    public long SpillSlots { get; private set; }

    /// <summary>IL locals declared so far.</summary>
    public int LocalCount => _locals.Count;

    public IlLocal DeclareLocal(Type type)
    {
        _locals.Add(_il.DeclareLocal(type));
        return new IlLocal(_locals.Count - 1, type);
    }

    public IlLabel DefineLabel()
    {
        _labels.Add(_il.DefineLabel());
        return new IlLabel(_labels.Count - 1);
    }

    public void MarkLabel(IlLabel label) => _il.MarkLabel(_labels[label.Index]);

    public void Emit(OpCode op) => _il.Emit(op);

    /// <summary>Pushes an int32 constant with the shortest encoding.</summary>
    public void EmitInt(int value)
    {
        switch (value)
        {
            case >= -1 and <= 8:
                _il.Emit(value switch
                {
                    -1 => OpCodes.Ldc_I4_M1,
                    0 => OpCodes.Ldc_I4_0,
                    1 => OpCodes.Ldc_I4_1,
                    2 => OpCodes.Ldc_I4_2,
                    3 => OpCodes.Ldc_I4_3,
                    4 => OpCodes.Ldc_I4_4,
                    5 => OpCodes.Ldc_I4_5,
                    6 => OpCodes.Ldc_I4_6,
                    7 => OpCodes.Ldc_I4_7,
                    _ => OpCodes.Ldc_I4_8,
                });
                break;
            case >= sbyte.MinValue and <= sbyte.MaxValue:
                _il.Emit(OpCodes.Ldc_I4_S, (sbyte)value);
                break;
            default:
                _il.Emit(OpCodes.Ldc_I4, value);
                break;
        }
    }

    public void Emit(OpCode op, long value) => _il.Emit(op, value);

    public void Emit(OpCode op, float value) => _il.Emit(op, value);

    public void Emit(OpCode op, double value) => _il.Emit(op, value);

    /// <summary>ldarg/starg with an argument index.</summary>
    public void EmitArg(OpCode op, int index) => _il.Emit(op, (short)index);

    public void Emit(OpCode op, IlLocal local) => _il.Emit(op, _locals[local.Index]);

    public void Emit(OpCode op, IlLabel label)
    {
        SpillSlots += OperandStack?.Count ?? 0;
        _il.Emit(op, _labels[label.Index]);
    }

    public void Emit(OpCode op, IlLabel[] labels)
    {
        SpillSlots += OperandStack?.Count ?? 0;
        _il.Emit(op, Array.ConvertAll(labels, l => _labels[l.Index]));
    }

    public void Emit(OpCode op, FieldInfo field) => _il.Emit(op, _tokens.Get(field));

    public void Emit(OpCode op, Type type) => _il.Emit(op, _tokens.Get(type));

    public void Emit(OpCode op, MethodInfo method)
    {
        if (method is MethodBuilder || method.IsGenericMethod || method.ReturnType == typeof(void) || method.GetParameters().Length != 1 || !method.IsStatic)
        {
            _il.Emit(op, method);
        }
        else
        {
            // Static, one argument, one result: net stack effect zero, as the generator assumes for a raw token.
            _il.Emit(op, _tokens.Get(method));
        }
    }

    public void EmitCalli(FuncType type) =>
        _il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, Il.ReturnType(type), Il.ParameterTypes(type), null);
}

/// <summary>Metadata tokens of one dynamic module, resolved once per member.</summary>
internal sealed class TokenCache
{
    private readonly Dictionary<MemberInfo, int> _members = [];

    public TokenCache(ModuleBuilder module)
    {
        Module = module;
    }

    public ModuleBuilder Module { get; }

    public int Get(FieldInfo field)
    {
        if (!_members.TryGetValue(field, out var token))
        {
            token = Module.GetFieldMetadataToken(field);
            _members[field] = token;
        }

        return token;
    }

    public int Get(MethodInfo method)
    {
        if (!_members.TryGetValue(method, out var token))
        {
            token = Module.GetMethodMetadataToken(method);
            _members[method] = token;
        }

        return token;
    }

    public int Get(Type type)
    {
        if (!_members.TryGetValue(type, out var token))
        {
            token = Module.GetTypeMetadataToken(type);
            _members[type] = token;
        }

        return token;
    }
}
