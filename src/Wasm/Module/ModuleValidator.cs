using System.Globalization;
using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Validates a decoded <see cref="WasmModule"/> against the WebAssembly 2.0 rules (SIMD excluded): index spaces, limits,
/// constant expressions, segments, exports, the start function and full type checking of every function body with the
/// spec's operand/control stack algorithm (unreachable code makes the operand stack polymorphic).
/// </summary>
/// <remarks>
/// Errors throw <see cref="WasmInvalidException"/> whose message starts with the spec's wording ("type mismatch",
/// "unknown local", ...). Two body-level conditions are encoding errors and throw <see cref="WasmMalformedException"/>:
/// a body that does not end exactly with its final <c>end</c>, and <c>memory.init</c>/<c>data.drop</c> without a data
/// count section. When a module is invalid, every function body is still scanned for such encoding errors first,
/// because decoding precedes validation in the spec and a malformed module must be reported as malformed.
/// </remarks>
internal static class ModuleValidator
{
    /// <summary>Validates a module.</summary>
    /// <param name="module">The decoded module.</param>
    /// <exception cref="WasmInvalidException">The module is not valid.</exception>
    /// <exception cref="WasmMalformedException">A function body is not well-formed.</exception>
    public static void Validate(WasmModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        try
        {
            new ModuleContext(module).Validate();
        }
        catch (WasmInvalidException)
        {
            ScanBodies(module);
            throw;
        }
    }

    /// <summary>Checks every function body for encoding errors only (no typing).</summary>
    internal static void ScanBodies(WasmModule module)
    {
        foreach (var body in module.Functions)
        {
            var reader = new OperatorReader(body.Code.Span, body.CodeOffset);
            var depth = 0;
            while (true)
            {
                reader.Read(out var op);
                switch (op.Opcode)
                {
                    case Opcode.Block or Opcode.Loop or Opcode.If:
                        depth++;
                        break;
                    case Opcode.MemoryInit or Opcode.DataDrop when module.DataCount is null && op.Index < (uint)module.Datas.Length:
                        throw reader.Malformed("data count section required");
                }

                if (op.Opcode == Opcode.End && depth-- == 0)
                {
                    break;
                }
            }

            if (!reader.AtEnd)
            {
                throw reader.Malformed("END opcode expected (operators after the end of the function)");
            }
        }
    }

    internal static string Name(WasmValueType t) => t == 0 ? "unknown" : t.ToWatName();

    private sealed class ModuleContext
    {
        private readonly WasmModule _m;
        private readonly bool[] _declaredRefs;

        public ModuleContext(WasmModule module)
        {
            _m = module;
            _declaredRefs = new bool[module.FunctionTypeIndices.Length];
        }

        public void Validate()
        {
            var m = _m;
            foreach (var import in m.Imports)
            {
                switch (import.Kind)
                {
                    case ExternalKind.Function when import.FunctionTypeIndex >= (uint)m.Types.Length:
                        throw Invalid($"unknown type {import.FunctionTypeIndex}");
                    case ExternalKind.Table:
                        CheckTableLimits(import.Table.Limits);
                        break;
                    case ExternalKind.Memory:
                        CheckMemoryLimits(import.Memory.Limits);
                        break;
                }
            }

            for (var i = m.ImportedFunctionCount; i < m.FunctionTypeIndices.Length; i++)
            {
                if (m.FunctionTypeIndices[i] >= (uint)m.Types.Length)
                {
                    throw Invalid($"unknown type {m.FunctionTypeIndices[i]}");
                }
            }

            for (var i = m.ImportedTableCount; i < m.Tables.Length; i++)
            {
                CheckTableLimits(m.Tables[i].Limits);
            }

            for (var i = m.ImportedMemoryCount; i < m.Memories.Length; i++)
            {
                CheckMemoryLimits(m.Memories[i].Limits);
            }

            if (m.Memories.Length > 1)
            {
                throw Invalid("multiple memories");
            }

            // C.refs: function indices referenced outside function bodies and the start section.
            foreach (var global in m.Globals)
            {
                Declare(global.Init);
            }

            foreach (var segment in m.Elements)
            {
                foreach (var item in segment.Items)
                {
                    Declare(item);
                }
            }

            foreach (var export in m.Exports)
            {
                if (export.Kind == ExternalKind.Function && export.Index < (uint)_declaredRefs.Length)
                {
                    _declaredRefs[export.Index] = true;
                }
            }

            for (var i = 0; i < m.Globals.Length; i++)
            {
                // Globals may refer to imported and earlier globals only.
                ValidateConstExpr(m.Globals[i].Init, m.Globals[i].Type.ValueType, m.ImportedGlobalCount + i);
            }

            ValidateExports();

            if (m.Start is { } start)
            {
                if (start >= (uint)m.FunctionTypeIndices.Length)
                {
                    throw Invalid($"unknown function {start}");
                }

                var type = m.FunctionType((int)start);
                if (type.Parameters.Count != 0 || type.Results.Count != 0)
                {
                    throw Invalid($"start function must have type [] -> [], not {type}");
                }
            }

            foreach (var segment in m.Elements)
            {
                if (segment.Mode == SegmentMode.Active)
                {
                    if (segment.TableIndex >= (uint)m.Tables.Length)
                    {
                        throw Invalid($"unknown table {segment.TableIndex}");
                    }

                    if (m.Tables[segment.TableIndex].ElementType != segment.ElementType)
                    {
                        throw Invalid($"type mismatch: element segment of {segment.ElementType.ToWatName()} for a table of {m.Tables[segment.TableIndex].ElementType.ToWatName()}");
                    }

                    ValidateConstExpr(segment.Offset, WasmValueType.I32, m.GlobalTypes.Length);
                }

                foreach (var item in segment.Items)
                {
                    ValidateConstExpr(item, segment.ElementType, m.GlobalTypes.Length);
                }
            }

            foreach (var segment in m.Datas)
            {
                if (segment.Mode == SegmentMode.Active)
                {
                    if (segment.MemoryIndex >= (uint)m.Memories.Length)
                    {
                        throw Invalid($"unknown memory {segment.MemoryIndex}");
                    }

                    ValidateConstExpr(segment.Offset, WasmValueType.I32, m.GlobalTypes.Length);
                }
            }

            var validator = new FunctionValidator(m, _declaredRefs);
            for (var i = 0; i < m.Functions.Length; i++)
            {
                validator.Validate(m.ImportedFunctionCount + i, m.Functions[i]);
            }
        }

        private void Declare(in ConstExpr expr)
        {
            if (expr.Kind == ConstExprKind.RefFunc && expr.Index < (uint)_declaredRefs.Length)
            {
                _declaredRefs[expr.Index] = true;
            }
        }

        private void ValidateExports()
        {
            var m = _m;
            var names = new HashSet<string>(m.Exports.Length, StringComparer.Ordinal);
            foreach (var export in m.Exports)
            {
                var (count, what) = export.Kind switch
                {
                    ExternalKind.Function => (m.FunctionTypeIndices.Length, "function"),
                    ExternalKind.Table => (m.Tables.Length, "table"),
                    ExternalKind.Memory => (m.Memories.Length, "memory"),
                    _ => (m.GlobalTypes.Length, "global"),
                };
                if (export.Index >= (uint)count)
                {
                    throw Invalid($"unknown {what} {export.Index}");
                }

                if (!names.Add(export.Name))
                {
                    throw Invalid($"duplicate export name \"{export.Name}\"");
                }
            }
        }

        private static void CheckTableLimits(Limits limits)
        {
            if (limits.Max is { } max && limits.Min > max)
            {
                throw Invalid("size minimum must not be greater than maximum");
            }
        }

        private static void CheckMemoryLimits(Limits limits)
        {
            if (limits.Min > WasmModuleLimits.MaxMemoryPages || limits.Max > WasmModuleLimits.MaxMemoryPages)
            {
                throw Invalid("memory size must be at most 65536 pages (4GiB)");
            }

            if (limits.Max is { } max && limits.Min > max)
            {
                throw Invalid("size minimum must not be greater than maximum");
            }
        }

        /// <summary>Validates a constant expression of type <paramref name="expected"/>; <c>global.get</c> may name
        /// globals below <paramref name="visibleGlobals"/> that are immutable.</summary>
        private void ValidateConstExpr(in ConstExpr expr, WasmValueType expected, int visibleGlobals)
        {
            if (expr.Kind == ConstExprKind.Other)
            {
                ValidateGeneralConstExpr(expr, expected, visibleGlobals);
                return;
            }

            var actual = ConstInstructionType(expr.Kind, expr.RefType, expr.Index, visibleGlobals);
            if (actual != expected)
            {
                throw Invalid($"type mismatch: constant expression of type {actual.ToWatName()} where {expected.ToWatName()} is expected");
            }
        }

        private WasmValueType ConstInstructionType(ConstExprKind kind, WasmValueType refType, uint index, int visibleGlobals)
        {
            switch (kind)
            {
                case ConstExprKind.I32Const:
                    return WasmValueType.I32;
                case ConstExprKind.I64Const:
                    return WasmValueType.I64;
                case ConstExprKind.F32Const:
                    return WasmValueType.F32;
                case ConstExprKind.F64Const:
                    return WasmValueType.F64;
                case ConstExprKind.RefNull:
                    return refType;
                case ConstExprKind.RefFunc:
                    if (index >= (uint)_m.FunctionTypeIndices.Length)
                    {
                        throw Invalid($"unknown function {index}");
                    }

                    return WasmValueType.FuncRef;
                case ConstExprKind.GlobalGet:
                    if (index >= (uint)visibleGlobals)
                    {
                        throw Invalid($"unknown global {index}");
                    }

                    var global = _m.GlobalTypes[index];
                    if (global.Mutable)
                    {
                        throw Invalid($"constant expression required (global {index} is mutable)");
                    }

                    return global.ValueType;
                default:
                    throw new InvalidOperationException("not a constant instruction");
            }
        }

        private void ValidateGeneralConstExpr(in ConstExpr expr, WasmValueType expected, int visibleGlobals)
        {
            var reader = new OperatorReader(expr.Code.Span, expr.Offset);
            var count = 0;
            while (true)
            {
                reader.Read(out var op);
                var kind = op.Opcode switch
                {
                    Opcode.I32Const => ConstExprKind.I32Const,
                    Opcode.I64Const => ConstExprKind.I64Const,
                    Opcode.F32Const => ConstExprKind.F32Const,
                    Opcode.F64Const => ConstExprKind.F64Const,
                    Opcode.RefNull => ConstExprKind.RefNull,
                    Opcode.RefFunc => ConstExprKind.RefFunc,
                    Opcode.GlobalGet => ConstExprKind.GlobalGet,
                    Opcode.End => ConstExprKind.Other,
                    _ => throw Invalid($"constant expression required (found {op.Opcode})"),
                };
                if (kind == ConstExprKind.Other)
                {
                    break;
                }

                ConstInstructionType(kind, op.RefType, op.Index, visibleGlobals);
                count++;
            }

            throw Invalid(count == 0
                ? $"type mismatch: empty constant expression where {expected.ToWatName()} is expected"
                : $"type mismatch: constant expression leaves {count} values where one {expected.ToWatName()} is expected");
        }
    }

    internal static WasmInvalidException Invalid(string message) => new(message);

    /// <summary>Type-checks function bodies. One instance validates all bodies of a module, reusing its stacks.</summary>
    private sealed class FunctionValidator
    {
        private const WasmValueType Unknown = 0;

        private readonly WasmModule _m;
        private readonly bool[] _declaredRefs;
        private readonly WasmValueType[][] _params;
        private readonly WasmValueType[][] _results;
        private readonly WasmValueType[][] _single;
        private WasmValueType[] _values = new WasmValueType[64];
        private int _valueCount;
        private Frame[] _frames = new Frame[16];
        private int _frameCount;
        private WasmValueType[] _locals = new WasmValueType[64];
        private int _localCount;
        private int _functionIndex;
        private int _opOffset;

        public FunctionValidator(WasmModule module, bool[] declaredRefs)
        {
            _m = module;
            _declaredRefs = declaredRefs;
            _params = new WasmValueType[module.Types.Length][];
            _results = new WasmValueType[module.Types.Length][];
            for (var i = 0; i < module.Types.Length; i++)
            {
                _params[i] = module.Types[i].ParameterSpan.ToArray();
                _results[i] = module.Types[i].ResultSpan.ToArray();
            }

            _single = new WasmValueType[256][];
            foreach (var t in new[] { WasmValueType.I32, WasmValueType.I64, WasmValueType.F32, WasmValueType.F64, WasmValueType.FuncRef, WasmValueType.ExternRef, WasmValueType.V128 })
            {
                _single[(byte)t] = [t];
            }
        }

        private struct Frame
        {
            public Opcode Kind;
            public WasmValueType[] Params;
            public WasmValueType[] Results;
            public int Height;
            public bool Unreachable;

            public readonly WasmValueType[] LabelTypes => Kind == Opcode.Loop ? Params : Results;
        }

        public void Validate(int functionIndex, WasmFunctionBody body)
        {
            _functionIndex = functionIndex;
            var typeIndex = _m.FunctionTypeIndices[functionIndex];
            var parameters = _params[typeIndex];
            _localCount = parameters.Length + body.Locals.Length;
            if (_locals.Length < _localCount)
            {
                _locals = new WasmValueType[Math.Max(_localCount, _locals.Length * 2)];
            }

            parameters.CopyTo(_locals, 0);
            body.Locals.CopyTo(_locals, parameters.Length);
            _valueCount = 0;
            _frameCount = 0;
            PushFrame(Opcode.Block, [], _results[typeIndex]);

            var reader = new OperatorReader(body.Code.Span, body.CodeOffset);
            while (_frameCount > 0)
            {
                reader.Read(out var op);
                _opOffset = body.CodeOffset + op.Offset;
                Step(ref reader, in op);
            }

            if (!reader.AtEnd)
            {
                throw reader.Malformed("END opcode expected (operators after the end of the function)");
            }
        }

        private WasmInvalidException Error(string message) =>
            new(string.Create(CultureInfo.InvariantCulture, $"{message} (function {_functionIndex}, byte offset {_opOffset})"));

        private WasmInvalidException Mismatch(WasmValueType expected, WasmValueType actual) =>
            Error($"type mismatch: expected {Name(expected)}, found {(actual == Unknown ? "nothing" : Name(actual))}");

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Push(WasmValueType type)
        {
            if (_valueCount == _values.Length)
            {
                Array.Resize(ref _values, _values.Length * 2);
            }

            _values[_valueCount++] = type;
        }

        private WasmValueType Pop()
        {
            ref var frame = ref _frames[_frameCount - 1];
            if (_valueCount == frame.Height)
            {
                if (frame.Unreachable)
                {
                    return Unknown;
                }

                throw Error("type mismatch: operand stack underflow");
            }

            return _values[--_valueCount];
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private WasmValueType Pop(WasmValueType expected)
        {
            if (_valueCount > _frames[_frameCount - 1].Height)
            {
                var top = _values[_valueCount - 1];
                if (top == expected)
                {
                    _valueCount--;
                    return top;
                }
            }

            return PopSlow(expected);
        }

        private WasmValueType PopSlow(WasmValueType expected)
        {
            ref var frame = ref _frames[_frameCount - 1];
            if (_valueCount == frame.Height)
            {
                if (frame.Unreachable)
                {
                    return expected;
                }

                throw Mismatch(expected, Unknown);
            }

            var actual = _values[--_valueCount];
            if (actual != expected && actual != Unknown && expected != Unknown)
            {
                throw Mismatch(expected, actual);
            }

            return actual;
        }

        private void PopValues(WasmValueType[] types)
        {
            for (var i = types.Length - 1; i >= 0; i--)
            {
                Pop(types[i]);
            }
        }

        private void PushValues(WasmValueType[] types)
        {
            foreach (var t in types)
            {
                Push(t);
            }
        }

        private void PushFrame(Opcode kind, WasmValueType[] parameters, WasmValueType[] results)
        {
            if (_frameCount == _frames.Length)
            {
                if (_frameCount > WasmModuleLimits.MaxControlDepth)
                {
                    throw new WasmMalformedException($"blocks nested deeper than {WasmModuleLimits.MaxControlDepth} in function {_functionIndex}");
                }

                Array.Resize(ref _frames, Math.Min(_frames.Length * 2, WasmModuleLimits.MaxControlDepth + 1));
            }

            _frames[_frameCount++] = new Frame { Kind = kind, Params = parameters, Results = results, Height = _valueCount };
            PushValues(parameters);
        }

        private Frame PopFrame()
        {
            var frame = _frames[_frameCount - 1];
            PopValues(frame.Results);
            if (_valueCount != frame.Height)
            {
                throw Error($"type mismatch: {_valueCount - frame.Height} extra values at the end of the block");
            }

            _frameCount--;
            return frame;
        }

        private void SetUnreachable()
        {
            ref var frame = ref _frames[_frameCount - 1];
            _valueCount = frame.Height;
            frame.Unreachable = true;
        }

        private ref Frame Label(uint depth)
        {
            if (depth >= (uint)_frameCount)
            {
                throw Error($"unknown label {depth}");
            }

            return ref _frames[_frameCount - 1 - (int)depth];
        }

        private (WasmValueType[] Params, WasmValueType[] Results) BlockSignature(in BlockType blockType)
        {
            switch (blockType.Kind)
            {
                case BlockTypeKind.Empty:
                    return ([], []);
                case BlockTypeKind.Value:
                    return ([], _single[(byte)blockType.ValueType]);
                default:
                    if (blockType.TypeIndex >= (uint)_params.Length)
                    {
                        throw Error($"unknown type {blockType.TypeIndex}");
                    }

                    return (_params[blockType.TypeIndex], _results[blockType.TypeIndex]);
            }
        }

        private WasmValueType LocalType(uint index)
        {
            if (index >= (uint)_localCount)
            {
                throw Error($"unknown local {index}");
            }

            return _locals[index];
        }

        private GlobalType GlobalType(uint index)
        {
            if (index >= (uint)_m.GlobalTypes.Length)
            {
                throw Error($"unknown global {index}");
            }

            return _m.GlobalTypes[index];
        }

        private TableType Table(uint index)
        {
            if (index >= (uint)_m.Tables.Length)
            {
                throw Error($"unknown table {index}");
            }

            return _m.Tables[index];
        }

        private void RequireMemory()
        {
            if (_m.Memories.Length == 0)
            {
                throw Error("unknown memory 0");
            }
        }

        private void RequireDataCount(ref OperatorReader reader, uint index)
        {
            // Without a data count section the binary is malformed (spec 5.5.16). Producers such as wabt omit the
            // section when there are no data segments at all, so an index that names no segment is reported as the
            // validation error it also is.
            if (_m.DataCount is null && index < (uint)_m.Datas.Length)
            {
                throw reader.Malformed("data count section required");
            }

            if (index >= (uint)_m.Datas.Length)
            {
                throw Error($"unknown data segment {index}");
            }
        }

        private WasmValueType ElementSegment(uint index)
        {
            if (index >= (uint)_m.Elements.Length)
            {
                throw Error($"unknown elem segment {index}");
            }

            return _m.Elements[index].ElementType;
        }

        private void MemoryAccess(in Operator op, int naturalAlignmentLog2)
        {
            RequireMemory();
            if (op.Index > (uint)naturalAlignmentLog2)
            {
                throw Error("alignment must not be larger than natural");
            }
        }

        private void Unary(WasmValueType input, WasmValueType output)
        {
            Pop(input);
            Push(output);
        }

        private void Binary(WasmValueType input, WasmValueType output)
        {
            Pop(input);
            Pop(input);
            Push(output);
        }

        private void Call(FuncType type)
        {
            var parameters = type.ParameterSpan;
            for (var i = parameters.Length - 1; i >= 0; i--)
            {
                Pop(parameters[i]);
            }

            foreach (var r in type.ResultSpan)
            {
                Push(r);
            }
        }

        private void Step(ref OperatorReader reader, in Operator op)
        {
            const WasmValueType I32 = WasmValueType.I32;
            const WasmValueType I64 = WasmValueType.I64;
            const WasmValueType F32 = WasmValueType.F32;
            const WasmValueType F64 = WasmValueType.F64;

            var code = op.Opcode;
            switch (code)
            {
                case Opcode.Unreachable:
                    SetUnreachable();
                    return;
                case Opcode.Nop:
                    return;
                case Opcode.Block:
                case Opcode.Loop:
                    {
                        var (p, r) = BlockSignature(op.Block);
                        PopValues(p);
                        PushFrame(code, p, r);
                        return;
                    }

                case Opcode.If:
                    {
                        var (p, r) = BlockSignature(op.Block);
                        Pop(I32);
                        PopValues(p);
                        PushFrame(code, p, r);
                        return;
                    }

                case Opcode.Else:
                    {
                        if (_frames[_frameCount - 1].Kind != Opcode.If)
                        {
                            throw reader.Malformed("else without matching if");
                        }

                        var frame = PopFrame();
                        PushFrame(Opcode.Else, frame.Params, frame.Results);
                        return;
                    }

                case Opcode.End:
                    {
                        var frame = PopFrame();
                        if (frame.Kind == Opcode.If && !frame.Params.AsSpan().SequenceEqual(frame.Results))
                        {
                            throw Error("type mismatch: if without else must not change the stack");
                        }

                        PushValues(frame.Results);
                        return;
                    }

                case Opcode.Br:
                    PopValues(Label(op.Index).LabelTypes);
                    SetUnreachable();
                    return;
                case Opcode.BrIf:
                    {
                        Pop(I32);
                        var types = Label(op.Index).LabelTypes;
                        PopValues(types);
                        PushValues(types);
                        return;
                    }

                case Opcode.BrTable:
                    {
                        Pop(I32);
                        var arity = Label(op.Index).LabelTypes.Length;
                        var targets = reader.BrTableTargets(op);
                        while (targets.Remaining > 0)
                        {
                            var types = Label(targets.Next()).LabelTypes;
                            if (types.Length != arity)
                            {
                                throw Error("type mismatch: br_table targets have different arities");
                            }

                            CheckValuesWithoutPopping(types);
                        }

                        PopValues(Label(op.Index).LabelTypes);
                        SetUnreachable();
                        return;
                    }

                case Opcode.Return:
                    PopValues(_frames[0].Results);
                    SetUnreachable();
                    return;
                case Opcode.Call:
                    if (op.Index >= (uint)_m.FunctionTypeIndices.Length)
                    {
                        throw Error($"unknown function {op.Index}");
                    }

                    Call(_m.FunctionType((int)op.Index));
                    return;
                case Opcode.CallIndirect:
                    {
                        if (Table(op.Index2).ElementType != WasmValueType.FuncRef)
                        {
                            throw Error("type mismatch: call_indirect on a table that is not funcref");
                        }

                        if (op.Index >= (uint)_m.Types.Length)
                        {
                            throw Error($"unknown type {op.Index}");
                        }

                        Pop(I32);
                        Call(_m.Types[op.Index]);
                        return;
                    }

                case Opcode.Drop:
                    Pop();
                    return;
                case Opcode.Select:
                    {
                        Pop(I32);
                        var t1 = Pop();
                        var t2 = Pop();
                        if (t1.IsReference() || t2.IsReference())
                        {
                            throw Error("type mismatch: select without a type needs numeric operands");
                        }

                        if (t1 != t2 && t1 != Unknown && t2 != Unknown)
                        {
                            throw Error($"type mismatch: select operands {Name(t2)} and {Name(t1)}");
                        }

                        Push(t1 == Unknown ? t2 : t1);
                        return;
                    }

                case Opcode.SelectTyped:
                    if (op.Index != 1)
                    {
                        throw Error("invalid result arity");
                    }

                    Pop(I32);
                    Pop(op.RefType);
                    Pop(op.RefType);
                    Push(op.RefType);
                    return;
                case Opcode.LocalGet:
                    Push(LocalType(op.Index));
                    return;
                case Opcode.LocalSet:
                    Pop(LocalType(op.Index));
                    return;
                case Opcode.LocalTee:
                    {
                        var t = LocalType(op.Index);
                        Pop(t);
                        Push(t);
                        return;
                    }

                case Opcode.GlobalGet:
                    Push(GlobalType(op.Index).ValueType);
                    return;
                case Opcode.GlobalSet:
                    {
                        var g = GlobalType(op.Index);
                        if (!g.Mutable)
                        {
                            throw Error($"global is immutable: global {op.Index}");
                        }

                        Pop(g.ValueType);
                        return;
                    }

                case Opcode.TableGet:
                    {
                        var t = Table(op.Index).ElementType;
                        Pop(I32);
                        Push(t);
                        return;
                    }

                case Opcode.TableSet:
                    {
                        var t = Table(op.Index).ElementType;
                        Pop(t);
                        Pop(I32);
                        return;
                    }

                case Opcode.I32Load: MemoryAccess(op, 2); Unary(I32, I32); return;
                case Opcode.I64Load: MemoryAccess(op, 3); Unary(I32, I64); return;
                case Opcode.F32Load: MemoryAccess(op, 2); Unary(I32, F32); return;
                case Opcode.F64Load: MemoryAccess(op, 3); Unary(I32, F64); return;
                case Opcode.I32Load8S or Opcode.I32Load8U: MemoryAccess(op, 0); Unary(I32, I32); return;
                case Opcode.I32Load16S or Opcode.I32Load16U: MemoryAccess(op, 1); Unary(I32, I32); return;
                case Opcode.I64Load8S or Opcode.I64Load8U: MemoryAccess(op, 0); Unary(I32, I64); return;
                case Opcode.I64Load16S or Opcode.I64Load16U: MemoryAccess(op, 1); Unary(I32, I64); return;
                case Opcode.I64Load32S or Opcode.I64Load32U: MemoryAccess(op, 2); Unary(I32, I64); return;
                case Opcode.I32Store: MemoryAccess(op, 2); Store(I32); return;
                case Opcode.I64Store: MemoryAccess(op, 3); Store(I64); return;
                case Opcode.F32Store: MemoryAccess(op, 2); Store(F32); return;
                case Opcode.F64Store: MemoryAccess(op, 3); Store(F64); return;
                case Opcode.I32Store8: MemoryAccess(op, 0); Store(I32); return;
                case Opcode.I32Store16: MemoryAccess(op, 1); Store(I32); return;
                case Opcode.I64Store8: MemoryAccess(op, 0); Store(I64); return;
                case Opcode.I64Store16: MemoryAccess(op, 1); Store(I64); return;
                case Opcode.I64Store32: MemoryAccess(op, 2); Store(I64); return;
                case Opcode.MemorySize:
                    RequireMemory();
                    Push(I32);
                    return;
                case Opcode.MemoryGrow:
                    RequireMemory();
                    Unary(I32, I32);
                    return;
                case Opcode.I32Const: Push(I32); return;
                case Opcode.I64Const: Push(I64); return;
                case Opcode.F32Const: Push(F32); return;
                case Opcode.F64Const: Push(F64); return;
                case Opcode.I32Eqz: Unary(I32, I32); return;
                case >= Opcode.I32Eq and <= Opcode.I32GeU: Binary(I32, I32); return;
                case Opcode.I64Eqz: Unary(I64, I32); return;
                case >= Opcode.I64Eq and <= Opcode.I64GeU: Binary(I64, I32); return;
                case >= Opcode.F32Eq and <= Opcode.F32Ge: Binary(F32, I32); return;
                case >= Opcode.F64Eq and <= Opcode.F64Ge: Binary(F64, I32); return;
                case >= Opcode.I32Clz and <= Opcode.I32Popcnt: Unary(I32, I32); return;
                case >= Opcode.I32Add and <= Opcode.I32Rotr: Binary(I32, I32); return;
                case >= Opcode.I64Clz and <= Opcode.I64Popcnt: Unary(I64, I64); return;
                case >= Opcode.I64Add and <= Opcode.I64Rotr: Binary(I64, I64); return;
                case >= Opcode.F32Abs and <= Opcode.F32Sqrt: Unary(F32, F32); return;
                case >= Opcode.F32Add and <= Opcode.F32Copysign: Binary(F32, F32); return;
                case >= Opcode.F64Abs and <= Opcode.F64Sqrt: Unary(F64, F64); return;
                case >= Opcode.F64Add and <= Opcode.F64Copysign: Binary(F64, F64); return;
                case Opcode.I32WrapI64: Unary(I64, I32); return;
                case Opcode.I32TruncF32S or Opcode.I32TruncF32U: Unary(F32, I32); return;
                case Opcode.I32TruncF64S or Opcode.I32TruncF64U: Unary(F64, I32); return;
                case Opcode.I64ExtendI32S or Opcode.I64ExtendI32U: Unary(I32, I64); return;
                case Opcode.I64TruncF32S or Opcode.I64TruncF32U: Unary(F32, I64); return;
                case Opcode.I64TruncF64S or Opcode.I64TruncF64U: Unary(F64, I64); return;
                case Opcode.F32ConvertI32S or Opcode.F32ConvertI32U: Unary(I32, F32); return;
                case Opcode.F32ConvertI64S or Opcode.F32ConvertI64U: Unary(I64, F32); return;
                case Opcode.F32DemoteF64: Unary(F64, F32); return;
                case Opcode.F64ConvertI32S or Opcode.F64ConvertI32U: Unary(I32, F64); return;
                case Opcode.F64ConvertI64S or Opcode.F64ConvertI64U: Unary(I64, F64); return;
                case Opcode.F64PromoteF32: Unary(F32, F64); return;
                case Opcode.I32ReinterpretF32: Unary(F32, I32); return;
                case Opcode.I64ReinterpretF64: Unary(F64, I64); return;
                case Opcode.F32ReinterpretI32: Unary(I32, F32); return;
                case Opcode.F64ReinterpretI64: Unary(I64, F64); return;
                case Opcode.I32Extend8S or Opcode.I32Extend16S: Unary(I32, I32); return;
                case >= Opcode.I64Extend8S and <= Opcode.I64Extend32S: Unary(I64, I64); return;
                case Opcode.RefNull:
                    Push(op.RefType);
                    return;
                case Opcode.RefIsNull:
                    {
                        var t = Pop();
                        if (t != Unknown && !t.IsReference())
                        {
                            throw Error($"type mismatch: ref.is_null on {Name(t)}");
                        }

                        Push(I32);
                        return;
                    }

                case Opcode.RefFunc:
                    if (op.Index >= (uint)_m.FunctionTypeIndices.Length)
                    {
                        throw Error($"unknown function {op.Index}");
                    }

                    if (!_declaredRefs[op.Index])
                    {
                        throw Error($"undeclared function reference {op.Index}");
                    }

                    Push(WasmValueType.FuncRef);
                    return;
                case Opcode.I32TruncSatF32S or Opcode.I32TruncSatF32U: Unary(F32, I32); return;
                case Opcode.I32TruncSatF64S or Opcode.I32TruncSatF64U: Unary(F64, I32); return;
                case Opcode.I64TruncSatF32S or Opcode.I64TruncSatF32U: Unary(F32, I64); return;
                case Opcode.I64TruncSatF64S or Opcode.I64TruncSatF64U: Unary(F64, I64); return;
                case Opcode.MemoryInit:
                    RequireMemory();
                    RequireDataCount(ref reader, op.Index);
                    Pop(I32);
                    Pop(I32);
                    Pop(I32);
                    return;
                case Opcode.DataDrop:
                    RequireDataCount(ref reader, op.Index);
                    return;
                case Opcode.MemoryCopy:
                case Opcode.MemoryFill:
                    RequireMemory();
                    Pop(I32);
                    Pop(I32);
                    Pop(I32);
                    return;
                case Opcode.TableInit:
                    {
                        var table = Table(op.Index2);
                        var elementType = ElementSegment(op.Index);
                        if (table.ElementType != elementType)
                        {
                            throw Error("type mismatch: table.init element type differs from the table's");
                        }

                        Pop(I32);
                        Pop(I32);
                        Pop(I32);
                        return;
                    }

                case Opcode.ElemDrop:
                    ElementSegment(op.Index);
                    return;
                case Opcode.TableCopy:
                    {
                        var destination = Table(op.Index);
                        var source = Table(op.Index2);
                        if (destination.ElementType != source.ElementType)
                        {
                            throw Error("type mismatch: table.copy between tables of different element types");
                        }

                        Pop(I32);
                        Pop(I32);
                        Pop(I32);
                        return;
                    }

                case Opcode.TableGrow:
                    {
                        var t = Table(op.Index).ElementType;
                        Pop(I32);
                        Pop(t);
                        Push(I32);
                        return;
                    }

                case Opcode.TableSize:
                    Table(op.Index);
                    Push(I32);
                    return;
                case Opcode.TableFill:
                    {
                        var t = Table(op.Index).ElementType;
                        Pop(I32);
                        Pop(t);
                        Pop(I32);
                        return;
                    }

                default:
                    throw reader.Malformed($"illegal opcode {code}");
            }
        }

        private void Store(WasmValueType type)
        {
            Pop(type);
            Pop(WasmValueType.I32);
        }

        /// <summary>pop_vals then push_vals of the same label types, checking without changing the stack.</summary>
        private void CheckValuesWithoutPopping(WasmValueType[] types)
        {
            var saved = _valueCount;
            ref var frame = ref _frames[_frameCount - 1];
            for (var i = types.Length - 1; i >= 0; i--)
            {
                if (_valueCount == frame.Height)
                {
                    if (!frame.Unreachable)
                    {
                        throw Mismatch(types[i], Unknown);
                    }

                    // Polymorphic stack: remaining operands are whatever the label wants.
                    break;
                }

                var actual = _values[--_valueCount];
                if (actual != types[i] && actual != Unknown)
                {
                    throw Mismatch(types[i], actual);
                }
            }

            _valueCount = saved;
        }
    }
}
