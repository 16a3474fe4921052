using System.Reflection;
using System.Reflection.Emit;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Translates one validated function body to IL in a single pass. The wasm operand stack maps onto the IL
/// evaluation stack; wasm locals are IL arguments/locals; the instance context is the last argument. A type stack
/// mirrors the operand stack so branches can drop surplus values and multi-value results can be spilled.
/// Statically unreachable code (after br, return, unreachable, ...) is skipped.
/// </summary>
/// <remarks>
/// Fuel follows Wasmtime's model exactly, so a run that finishes consumes the same fuel on both engines: 1 per
/// function entry and per instruction, 0 for nop, drop, block, loop, else, end, return and unreachable; bulk memory
/// and table instructions and the grows add 1 per byte, element or page (<see cref="RuntimeOps"/>). Each straight-line
/// segment (ended by a branch, a block boundary or a call, so a call that never returns, like <c>proc_exit</c>, has not
/// been charged for what follows it) is charged on entry without a check; like Wasmtime, the engine checks only at
/// function entry (after the entry's 1) and at loop headers, and traps <c>OutOfFuel</c> when no fuel is left there.
/// A run may therefore overdraw within its last stretch and still finish; it reports its limit as fuel used. The remaining stack budget
/// arrives as an argument and is charged in the prologue (see <see cref="StackBudget"/>); the interrupt flag
/// (timeouts, cancellation) is polled at function entry and at every loop header.
/// </remarks>
internal sealed class FunctionTranslator
{
    private static readonly MethodInfo AbsF32 = typeof(MathF).GetMethod(nameof(MathF.Abs), [typeof(float)])!;
    private static readonly MethodInfo AbsF64 = typeof(Math).GetMethod(nameof(Math.Abs), [typeof(double)])!;

    private readonly ModuleCode _owner;
    private readonly int _definedIndex;
    private readonly MethodInfo _self;
    private readonly WasmModule _module;
    private readonly WasmFunctionBody _body;
    private readonly FuncType _type;
    private readonly IlBuffer _il;
    private readonly bool _fuel;
    private readonly bool _canon;
    private readonly bool _wrapped;
    private readonly short _ctxArg;
    private readonly short _depthArg;
    private readonly int _paramCount;
    private readonly WasmValueType[] _localTypes;
    private readonly IlLocal[] _locals;
    private readonly List<WasmValueType> _stack = new(32);
    private readonly List<Frame> _frames = new(16);

    // Positions on _stack (ascending) of float arithmetic results whose NaN has not been canonicalized yet.
    private readonly List<int> _uncanonicalized = new(8);

    // Locals (by index) holding such a value since the last control operator; see KeepsUncanonicalized.
    private readonly List<uint> _uncanonicalizedLocals = new(8);
    private readonly Dictionary<(WasmValueType, int), IlLocal> _temps = [];
    private readonly Dictionary<uint, IlLocal> _globalLocals = [];
    private IlLocal _store;
    private IlLocal? _fuelLocal;
    private IlLocal? _memBase;
    private IlLocal? _memLength;
    private IlLocal? _addr;
    private IlLocal? _calleeLocal;
    private IlLocal? _elementsLocal;
    private bool _unreachable;
    private int _skipDepth;
    private bool _producedUncanonical;
    private int _maxCallArguments;

    // wrapped: the body runs behind a wrapper that has charged the stack budget already (ModuleCode).
    public FunctionTranslator(ModuleCode owner, int definedIndex, MethodInfo self, IlBuffer il, bool fuel, bool canon, bool wrapped)
    {
        _owner = owner;
        _definedIndex = definedIndex;
        _self = self;
        _module = owner.Module;
        _body = _module.Functions[definedIndex];
        _type = _module.Types[_body.TypeIndex];
        _il = il;
        _fuel = fuel;
        _canon = canon;
        _wrapped = wrapped;
        _paramCount = _type.Parameters.Count;
        _depthArg = (short)_paramCount;
        _ctxArg = (short)(_paramCount + 1);
        _localTypes = [.. _type.Parameters, .. _body.Locals];
        il.OperandStack = _stack;
        _locals = new IlLocal[_body.Locals.Length];
        for (var i = 0; i < _body.Locals.Length; i++)
        {
            _locals[i] = il.DeclareLocal(Il.ClrType(_body.Locals[i]));
        }
    }

    /// <summary>Upper bound of the function's native frame, known once <see cref="Translate"/> has run.</summary>
    public long FrameBytes => StackBudget.FrameBytes(_paramCount, _il.LocalCount, _il.SpillSlots, _maxCallArguments);

    private enum FrameKind : byte
    {
        Function,
        Block,
        Loop,
        If,
    }

    public void Translate()
    {
        Prescan(out var usesMemory);
        EmitPrologue(usesMemory);

        var functionFrame = new Frame(FrameKind.Function, _il.DefineLabel(), 0, [], [.. _type.Results]);
        _frames.Add(functionFrame);

        var reader = new OperatorReader(_body.Code.Span, _body.CodeOffset);
        ChargeEntry();
        ChargeSegment(reader);
        while (!reader.AtEnd)
        {
            reader.Read(out var op);
            if (_unreachable)
            {
                SkipUnreachable(in op, reader);
                continue;
            }

            var keepsUncanonical = KeepsUncanonicalized(op.Opcode);
            if (!keepsUncanonical && _uncanonicalized.Count > 0)
            {
                CanonicalizeStack();
            }

            if (op.Opcode < Opcode.Drop && _uncanonicalizedLocals.Count > 0)
            {
                CanonicalizeLocals();
            }

            if (op.Opcode is Opcode.LocalSet or Opcode.LocalTee)
            {
                TrackLocalWrite(op.Index);
            }

            if (op.Opcode == Opcode.LocalGet)
            {
                _producedUncanonical = _uncanonicalizedLocals.Contains(op.Index);
            }

            TranslateOperator(in op, ref reader);
            if (keepsUncanonical)
            {
                TrackUncanonicalized(op.Opcode is Opcode.Drop or Opcode.LocalSet or Opcode.LocalTee ? _stack.Count : _stack.Count - 1);
            }
        }
    }

    private void Prescan(out bool usesMemory)
    {
        usesMemory = false;
        var reader = new OperatorReader(_body.Code.Span, _body.CodeOffset);
        while (!reader.AtEnd)
        {
            reader.Read(out var op);
            switch (op.Opcode)
            {
                case >= Opcode.I32Load and <= Opcode.I64Store32:
                    usesMemory = true;
                    break;
                case Opcode.GlobalGet:
                case Opcode.GlobalSet:
                    if (!_globalLocals.ContainsKey(op.Index))
                    {
                        _globalLocals[op.Index] = _il.DeclareLocal(typeof(Global));
                    }

                    break;
            }
        }
    }

    private void EmitPrologue(bool usesMemory)
    {
        var il = _il;
        _store = il.DeclareLocal(typeof(Store));
        il.EmitArg(OpCodes.Ldarg, _ctxArg);
        il.Emit(OpCodes.Ldfld, Il.CtxStore);
        il.Emit(OpCodes.Stloc, _store);

        // Stack budget: the remainder arrives as an argument (no shared counter to update); a frame of one unit
        // charges it here, a larger one was charged by its wrapper (StackBudget). Callees get what is left.
        if (!_wrapped)
        {
            var depthOk = il.DefineLabel();
            il.EmitArg(OpCodes.Ldarg, _depthArg);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Sub);
            il.EmitArg(OpCodes.Starg, _depthArg);
            il.EmitArg(OpCodes.Ldarg, _depthArg);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Bge, depthOk);
            EmitTrap(TrapKind.CallStackExhausted);
            il.MarkLabel(depthOk);
        }

        if (_fuel)
        {
            // Fuel lives in a local (a register) and is synchronized with the store around calls, returns and traps.
            _fuelLocal = il.DeclareLocal(typeof(long));
            il.Emit(OpCodes.Ldloc, _store);
            il.Emit(OpCodes.Ldfld, Il.StoreFuelLeft);
            il.Emit(OpCodes.Stloc, _fuelLocal.Value);
        }

        EmitInterruptCheck();

        if (usesMemory)
        {
            _memBase = il.DeclareLocal(typeof(nint));
            _memLength = il.DeclareLocal(typeof(ulong));
            _addr = il.DeclareLocal(typeof(int));
            ReloadMemory();
        }

        foreach (var (index, local) in _globalLocals)
        {
            il.EmitArg(OpCodes.Ldarg, _ctxArg);
            il.Emit(OpCodes.Ldfld, Il.CtxGlobals);
            _il.EmitInt((int)index);
            il.Emit(OpCodes.Ldelem_Ref);
            il.Emit(OpCodes.Stloc, local);
        }
    }

    private void ReloadMemory()
    {
        if (_memBase is null)
        {
            return;
        }

        _il.EmitArg(OpCodes.Ldarg, _ctxArg);
        _il.Emit(OpCodes.Ldfld, Il.CtxMemory0);
        _il.Emit(OpCodes.Dup);
        _il.Emit(OpCodes.Ldfld, Il.MemoryBase);
        _il.Emit(OpCodes.Stloc, _memBase.Value);
        _il.Emit(OpCodes.Ldfld, Il.MemoryLength);
        _il.Emit(OpCodes.Stloc, _memLength!.Value);
    }

    private void EmitInterruptCheck()
    {
        var ok = _il.DefineLabel();
        _il.Emit(OpCodes.Ldloc, _store);
        _il.Emit(OpCodes.Volatile);
        _il.Emit(OpCodes.Ldfld, Il.StoreInterrupt);
        _il.Emit(OpCodes.Brfalse, ok);
        EmitTrap(TrapKind.Timeout);
        _il.MarkLabel(ok);
    }

    /// <summary>Function entry: 1 unit, then the check Wasmtime makes at every function entry.</summary>
    private void ChargeEntry()
    {
        if (!_fuel)
        {
            return;
        }

        _il.Emit(OpCodes.Ldloc, _fuelLocal!.Value);
        _il.Emit(OpCodes.Ldc_I8, 1L);
        _il.Emit(OpCodes.Sub);
        _il.Emit(OpCodes.Stloc, _fuelLocal.Value);
        EmitFuelCheck();
    }

    /// <summary>Traps <see cref="TrapKind.OutOfFuel"/> when no fuel is left (function entries and loop headers only).</summary>
    private void EmitFuelCheck()
    {
        if (!_fuel)
        {
            return;
        }

        var ok = _il.DefineLabel();
        _il.Emit(OpCodes.Ldloc, _fuelLocal!.Value);
        _il.Emit(OpCodes.Ldc_I8, 0L);
        _il.Emit(OpCodes.Bgt, ok);
        EmitTrap(TrapKind.OutOfFuel);
        _il.MarkLabel(ok);
    }

    /// <summary>Charges the cost of the segment starting at the reader's position (a copy is used to look ahead), without a check.</summary>
    private void ChargeSegment(OperatorReader lookahead)
    {
        if (!_fuel)
        {
            return;
        }

        long cost = 0;
        while (!lookahead.AtEnd)
        {
            lookahead.Read(out var op);
            cost += Cost(op.Opcode);
            if (EndsSegment(op.Opcode))
            {
                break;
            }
        }

        if (cost == 0)
        {
            return;
        }

        var il = _il;
        il.Emit(OpCodes.Ldloc, _fuelLocal!.Value);
        il.Emit(OpCodes.Ldc_I8, cost);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Stloc, _fuelLocal.Value);
    }

    internal static int Cost(Opcode opcode) => opcode switch
    {
        Opcode.Block or Opcode.Loop or Opcode.End or Opcode.Else or Opcode.Nop or Opcode.Drop or Opcode.Return or Opcode.Unreachable => 0,
        _ => 1,
    };

    internal static bool EndsSegment(Opcode opcode) => opcode is Opcode.Loop or Opcode.If or Opcode.Else or Opcode.End
        or Opcode.Br or Opcode.BrIf or Opcode.BrTable or Opcode.Return or Opcode.Unreachable or Opcode.Call or Opcode.CallIndirect;

    private void SkipUnreachable(in Operator op, OperatorReader reader)
    {
        switch (op.Opcode)
        {
            case Opcode.Block:
            case Opcode.Loop:
            case Opcode.If:
                _skipDepth++;
                break;
            case Opcode.Else:
                if (_skipDepth == 0)
                {
                    TranslateElse(reader);
                }

                break;
            case Opcode.End:
                if (_skipDepth > 0)
                {
                    _skipDepth--;
                }
                else
                {
                    TranslateEnd(reader);
                }

                break;
        }
    }

    private void MarkUnreachable()
    {
        _unreachable = true;
        _skipDepth = 0;
    }

    // ---- type stack -------------------------------------------------------------------------------------------

    private void Push(WasmValueType type) => _stack.Add(type);

    private WasmValueType Pop()
    {
        var t = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return t;
    }

    private void Pop(int count) => _stack.RemoveRange(_stack.Count - count, count);

    private IlLocal Temp(WasmValueType type, int slot)
    {
        if (!_temps.TryGetValue((type, slot), out var local))
        {
            local = _il.DeclareLocal(Il.ClrType(type));
            _temps[(type, slot)] = local;
        }

        return local;
    }

    private (WasmValueType[] Params, WasmValueType[] Results) BlockSignature(BlockType block) => block.Kind switch
    {
        BlockTypeKind.Empty => ([], []),
        BlockTypeKind.Value => ([], [block.ValueType]),
        _ => ([.. _module.Types[block.TypeIndex].Parameters], [.. _module.Types[block.TypeIndex].Results]),
    };

    // ---- control ----------------------------------------------------------------------------------------------

    private void TranslateElse(OperatorReader reader)
    {
        var frame = _frames[^1];
        if (!_unreachable)
        {
            _il.Emit(OpCodes.Br, frame.Label);
            frame.Targeted = true;
        }

        _il.MarkLabel(frame.ElseLabel);
        frame.ElseMarked = true;
        _stack.RemoveRange(frame.Height, _stack.Count - frame.Height);
        _stack.AddRange(frame.Params);
        _unreachable = false;
        _skipDepth = 0;
        ChargeSegment(reader);
    }

    private void TranslateEnd(OperatorReader reader)
    {
        var frame = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        var reachable = !_unreachable;
        if (frame.Kind == FrameKind.If && !frame.ElseMarked)
        {
            // No else: the false edge arrives here with the params (= results) on the stack.
            _il.MarkLabel(frame.ElseLabel);
            reachable = true;
        }

        if (frame.Kind != FrameKind.Loop && frame.Targeted)
        {
            _il.MarkLabel(frame.Label);
            reachable = true;
        }

        _stack.RemoveRange(frame.Height, _stack.Count - frame.Height);
        _stack.AddRange(frame.Results);
        _unreachable = false;
        _skipDepth = 0;

        if (frame.Kind == FrameKind.Function)
        {
            if (reachable)
            {
                EmitEpilogue();
            }

            return;
        }

        if (!reachable)
        {
            MarkUnreachable();
            return;
        }

        ChargeSegment(reader);
    }

    private void EmitEpilogue()
    {
        var il = _il;
        SaveFuel();
        var results = _type.ResultSpan;
        if (results.Length > 1)
        {
            var temps = new IlLocal[results.Length];
            for (var i = results.Length - 1; i >= 0; i--)
            {
                temps[i] = Temp(results[i], i);
                il.Emit(OpCodes.Stloc, temps[i]);
            }

            for (var i = 0; i < results.Length; i++)
            {
                EmitStoreSlot(i, results[i], temps[i]);
            }
        }

        il.Emit(OpCodes.Ret);
    }


    /// <summary>Emits the stack fix-up for a branch to <paramref name="target"/>: keep its arity values, drop what lies between.</summary>
    private void EmitBranchFixup(Frame target)
    {
        var arity = target.Kind == FrameKind.Loop ? target.Params.Length : target.Results.Length;
        var surplus = _stack.Count - target.Height - arity;
        if (surplus <= 0)
        {
            return;
        }

        var kept = new IlLocal[arity];
        for (var i = 0; i < arity; i++)
        {
            var type = _stack[_stack.Count - 1 - i];
            kept[i] = Temp(type, 100 + i);
            _il.Emit(OpCodes.Stloc, kept[i]);
        }

        for (var i = 0; i < surplus; i++)
        {
            _il.Emit(OpCodes.Pop);
        }

        for (var i = arity - 1; i >= 0; i--)
        {
            _il.Emit(OpCodes.Ldloc, kept[i]);
        }
    }

    private bool NeedsFixup(Frame target)
    {
        var arity = target.Kind == FrameKind.Loop ? target.Params.Length : target.Results.Length;
        return _stack.Count - target.Height - arity > 0;
    }

    private Frame Target(uint depth)
    {
        var frame = _frames[_frames.Count - 1 - (int)depth];
        if (frame.Kind != FrameKind.Loop)
        {
            frame.Targeted = true;
        }

        return frame;
    }

    private void EmitBranch(uint depth)
    {
        var target = Target(depth);
        EmitBranchFixup(target);
        _il.Emit(OpCodes.Br, target.Label);
    }

    private void EmitBrTable(in Operator op, ref OperatorReader reader)
    {
        Pop(); // index
        var targets = reader.BrTableTargets(op);
        var count = targets.Remaining;
        var labels = new IlLabel[count];
        var stubs = new List<(IlLabel Stub, uint Depth)>();
        var stubByDepth = new Dictionary<uint, IlLabel>();
        for (var i = 0; i < count; i++)
        {
            var depth = targets.Next();
            var target = Target(depth);
            if (!NeedsFixup(target))
            {
                labels[i] = target.Label;
            }
            else if (stubByDepth.TryGetValue(depth, out var existing))
            {
                labels[i] = existing;
            }
            else
            {
                var stub = _il.DefineLabel();
                stubByDepth[depth] = stub;
                stubs.Add((stub, depth));
                labels[i] = stub;
            }
        }

        _il.Emit(OpCodes.Switch, labels);
        EmitBranch(op.Index);
        foreach (var (stub, depth) in stubs)
        {
            _il.MarkLabel(stub);
            EmitBranch(depth);
        }
    }

    // ---- operators --------------------------------------------------------------------------------------------

    private void TranslateOperator(in Operator op, ref OperatorReader reader)
    {
        var il = _il;
        switch (op.Opcode)
        {
            case Opcode.Unreachable:
                EmitTrap(TrapKind.Unreachable);
                MarkUnreachable();
                break;
            case Opcode.Nop:
                break;
            case Opcode.Block:
                {
                    var (p, r) = BlockSignature(op.Block);
                    _frames.Add(new Frame(FrameKind.Block, il.DefineLabel(), _stack.Count - p.Length, p, r));
                    break;
                }

            case Opcode.Loop:
                {
                    var (p, r) = BlockSignature(op.Block);
                    var label = il.DefineLabel();
                    il.MarkLabel(label);
                    _frames.Add(new Frame(FrameKind.Loop, label, _stack.Count - p.Length, p, r));
                    EmitInterruptCheck();
                    EmitFuelCheck();
                    ChargeSegment(reader);
                    break;
                }

            case Opcode.If:
                {
                    Pop();
                    var (p, r) = BlockSignature(op.Block);
                    var frame = new Frame(FrameKind.If, il.DefineLabel(), _stack.Count - p.Length, p, r) { ElseLabel = il.DefineLabel() };
                    il.Emit(OpCodes.Brfalse, frame.ElseLabel);
                    _frames.Add(frame);
                    ChargeSegment(reader);
                    break;
                }

            case Opcode.Else:
                TranslateElse(reader);
                break;
            case Opcode.End:
                TranslateEnd(reader);
                break;
            case Opcode.Br:
                EmitBranch(op.Index);
                MarkUnreachable();
                break;
            case Opcode.BrIf:
                {
                    Pop();
                    var target = Target(op.Index);
                    if (NeedsFixup(target))
                    {
                        var skip = il.DefineLabel();
                        il.Emit(OpCodes.Brfalse, skip);
                        EmitBranchFixup(target);
                        il.Emit(OpCodes.Br, target.Label);
                        il.MarkLabel(skip);
                    }
                    else
                    {
                        il.Emit(OpCodes.Brtrue, target.Label);
                    }

                    ChargeSegment(reader);
                    break;
                }

            case Opcode.BrTable:
                EmitBrTable(in op, ref reader);
                MarkUnreachable();
                break;
            case Opcode.Return:
                EmitBranch((uint)(_frames.Count - 1));
                MarkUnreachable();
                break;
            case Opcode.Call:
                EmitCall(op.Index);
                ChargeSegment(reader);
                break;
            case Opcode.CallIndirect:
                EmitCallIndirect(op.Index, op.Index2);
                ChargeSegment(reader);
                break;
            case Opcode.Drop:
                Pop();
                il.Emit(OpCodes.Pop);
                break;
            case Opcode.Select:
            case Opcode.SelectTyped:
                EmitSelect();
                break;
            case Opcode.LocalGet:
                EmitLocalGet(op.Index);
                Push(_localTypes[op.Index]);
                break;
            case Opcode.LocalSet:
                Pop();
                EmitLocalSet(op.Index);
                break;
            case Opcode.LocalTee:
                il.Emit(OpCodes.Dup);
                EmitLocalSet(op.Index);
                break;
            case Opcode.GlobalGet:
                EmitGlobalGet(op.Index);
                break;
            case Opcode.GlobalSet:
                EmitGlobalSet(op.Index);
                break;
            case Opcode.TableGet:
                Pop();
                _il.EmitInt((int)op.Index);
                EmitRuntimeCall(nameof(RuntimeOps.TableGet));
                Push(_module.Tables[op.Index].ElementType);
                break;
            case Opcode.TableSet:
                Pop(2);
                _il.EmitInt((int)op.Index);
                EmitRuntimeCall(nameof(RuntimeOps.TableSet));
                break;
            case >= Opcode.I32Load and <= Opcode.I64Load32U:
                EmitLoad(op.Opcode, op.Immediate);
                break;
            case >= Opcode.I32Store and <= Opcode.I64Store32:
                EmitStore(op.Opcode, op.Immediate);
                break;
            case Opcode.MemorySize:
                il.EmitArg(OpCodes.Ldarg, _ctxArg);
                il.Emit(OpCodes.Ldfld, Il.CtxMemory0);
                il.Emit(OpCodes.Ldfld, Il.MemoryPages);
                Push(WasmValueType.I32);
                break;
            case Opcode.MemoryGrow:
                EmitChargingRuntimeCall(nameof(RuntimeOps.MemoryGrow));
                ReloadMemory();
                break;
            case Opcode.I32Const:
                _il.EmitInt((int)op.Immediate);
                Push(WasmValueType.I32);
                break;
            case Opcode.I64Const:
                il.Emit(OpCodes.Ldc_I8, (long)op.Immediate);
                Push(WasmValueType.I64);
                break;
            case Opcode.F32Const:
                if (float.IsNaN(BitConverter.UInt32BitsToSingle((uint)op.Immediate)))
                {
                    // The JIT keeps float constants as doubles, which would quiet a signaling NaN: go through the bits.
                    _il.EmitInt((int)(uint)op.Immediate);
                    il.Emit(OpCodes.Call, NumericMethods.Get(nameof(Numeric.F32FromBitsOpaque), typeof(int)));
                }
                else
                {
                    il.Emit(OpCodes.Ldc_R4, BitConverter.UInt32BitsToSingle((uint)op.Immediate));
                }

                Push(WasmValueType.F32);
                break;
            case Opcode.F64Const:
                il.Emit(OpCodes.Ldc_R8, BitConverter.UInt64BitsToDouble(op.Immediate));
                Push(WasmValueType.F64);
                break;
            case Opcode.RefNull:
                il.Emit(OpCodes.Ldnull);
                Push(op.RefType);
                break;
            case Opcode.RefIsNull:
                Pop();
                il.Emit(OpCodes.Ldnull);
                il.Emit(OpCodes.Ceq);
                Push(WasmValueType.I32);
                break;
            case Opcode.RefFunc:
                _il.EmitInt((int)op.Index);
                il.EmitArg(OpCodes.Ldarg, _ctxArg);
                il.Emit(OpCodes.Call, RuntimeOpMethods.Get(nameof(RuntimeOps.FunctionRef)));
                Push(WasmValueType.FuncRef);
                break;
            case Opcode.MemoryInit:
                Pop(3);
                _il.EmitInt((int)op.Index);
                EmitChargingRuntimeCall(nameof(RuntimeOps.MemoryInit));
                break;
            case Opcode.DataDrop:
                _il.EmitInt((int)op.Index);
                EmitRuntimeCall(nameof(RuntimeOps.DataDrop));
                break;
            case Opcode.MemoryCopy:
                Pop(3);
                EmitChargingRuntimeCall(nameof(RuntimeOps.MemoryCopy));
                break;
            case Opcode.MemoryFill:
                Pop(3);
                EmitChargingRuntimeCall(nameof(RuntimeOps.MemoryFill));
                break;
            case Opcode.TableInit:
                Pop(3);
                _il.EmitInt((int)op.Index);
                _il.EmitInt((int)op.Index2);
                EmitChargingRuntimeCall(nameof(RuntimeOps.TableInit));
                break;
            case Opcode.ElemDrop:
                _il.EmitInt((int)op.Index);
                EmitRuntimeCall(nameof(RuntimeOps.ElemDrop));
                break;
            case Opcode.TableCopy:
                Pop(3);
                _il.EmitInt((int)op.Index);
                _il.EmitInt((int)op.Index2);
                EmitChargingRuntimeCall(nameof(RuntimeOps.TableCopy));
                break;
            case Opcode.TableGrow:
                Pop(2);
                _il.EmitInt((int)op.Index);
                EmitChargingRuntimeCall(nameof(RuntimeOps.TableGrow));
                Push(WasmValueType.I32);
                break;
            case Opcode.TableSize:
                _il.EmitInt((int)op.Index);
                EmitRuntimeCall(nameof(RuntimeOps.TableSize));
                Push(WasmValueType.I32);
                break;
            case Opcode.TableFill:
                Pop(3);
                _il.EmitInt((int)op.Index);
                EmitChargingRuntimeCall(nameof(RuntimeOps.TableFill));
                break;
            default:
                EmitNumeric(op.Opcode);
                break;
        }
    }

    /// <summary>Writes the fuel local back to the store (before calls, returns and traps).</summary>
    private void SaveFuel()
    {
        if (_fuelLocal is { } fuel)
        {
            _il.Emit(OpCodes.Ldloc, _store);
            _il.Emit(OpCodes.Ldloc, fuel);
            _il.Emit(OpCodes.Stfld, Il.StoreFuelLeft);
        }
    }

    /// <summary>Reloads the fuel local after a call (the callee or a host may have charged or added fuel).</summary>
    private void LoadFuel()
    {
        if (_fuelLocal is { } fuel)
        {
            _il.Emit(OpCodes.Ldloc, _store);
            _il.Emit(OpCodes.Ldfld, Il.StoreFuelLeft);
            _il.Emit(OpCodes.Stloc, fuel);
        }
    }

    /// <summary>Pushes the callee's stack budget (what is left after our own charge).</summary>
    private void PushCalleeDepth(FuncType callee)
    {
        _maxCallArguments = Math.Max(_maxCallArguments, callee.Parameters.Count + 2);
        _il.EmitArg(OpCodes.Ldarg, _depthArg);
    }

    /// <summary>A runtime helper that charges fuel: synchronize the fuel local around it.</summary>
    private void EmitChargingRuntimeCall(string name)
    {
        SaveFuel();
        EmitRuntimeCall(name);
        LoadFuel();
    }

    private void EmitRuntimeCall(string name)
    {
        _il.EmitArg(OpCodes.Ldarg, _ctxArg);
        _il.Emit(OpCodes.Call, RuntimeOpMethods.Get(name));
    }

    private void EmitLocalGet(uint index)
    {
        if (index < _paramCount)
        {
            _il.EmitArg(OpCodes.Ldarg, (short)index);
        }
        else
        {
            _il.Emit(OpCodes.Ldloc, _locals[index - _paramCount]);
        }
    }

    private void EmitLocalSet(uint index)
    {
        if (index < _paramCount)
        {
            _il.EmitArg(OpCodes.Starg, (short)index);
        }
        else
        {
            _il.Emit(OpCodes.Stloc, _locals[index - _paramCount]);
        }
    }

    private void EmitGlobalGet(uint index)
    {
        var type = _module.GlobalTypes[index].ValueType;
        var cell = _globalLocals[index];
        _il.Emit(OpCodes.Ldloc, cell);
        switch (type)
        {
            case WasmValueType.I32:
                _il.Emit(OpCodes.Ldflda, Il.GlobalBits);
                _il.Emit(OpCodes.Ldind_I4);
                break;
            case WasmValueType.I64:
                _il.Emit(OpCodes.Ldfld, Il.GlobalBits);
                break;
            case WasmValueType.F32:
                _il.Emit(OpCodes.Ldflda, Il.GlobalBits);
                _il.Emit(OpCodes.Ldind_R4);
                break;
            case WasmValueType.F64:
                _il.Emit(OpCodes.Ldflda, Il.GlobalBits);
                _il.Emit(OpCodes.Ldind_R8);
                break;
            default:
                _il.Emit(OpCodes.Ldfld, Il.GlobalRef);
                break;
        }

        Push(type);
    }

    private void EmitGlobalSet(uint index)
    {
        var type = Pop();
        var value = Temp(type, 0);
        _il.Emit(OpCodes.Stloc, value);
        _il.Emit(OpCodes.Ldloc, _globalLocals[index]);
        if (type.IsReference())
        {
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Stfld, Il.GlobalRef);
            return;
        }

        // Numeric globals keep raw bits; 32-bit values are stored zero-extended.
        _il.Emit(OpCodes.Ldloc, value);
        EmitToBits(type);
        _il.Emit(OpCodes.Stfld, Il.GlobalBits);
    }

    private void EmitSelect()
    {
        Pop();
        var type = Pop();
        Pop();
        var cond = Temp(WasmValueType.I32, 0);
        var second = Temp(type, 1);
        var first = Temp(type, 2);
        _il.Emit(OpCodes.Stloc, cond);
        _il.Emit(OpCodes.Stloc, second);
        _il.Emit(OpCodes.Stloc, first);
        var pickSecond = _il.DefineLabel();
        var done = _il.DefineLabel();
        _il.Emit(OpCodes.Ldloc, cond);
        _il.Emit(OpCodes.Brfalse, pickSecond);
        _il.Emit(OpCodes.Ldloc, first);
        _il.Emit(OpCodes.Br, done);
        _il.MarkLabel(pickSecond);
        _il.Emit(OpCodes.Ldloc, second);
        _il.MarkLabel(done);
        Push(type);
    }

    // ---- calls ------------------------------------------------------------------------------------------------

    private void EmitCall(uint functionIndex)
    {
        var type = _module.FunctionType((int)functionIndex);
        var il = _il;
        SaveFuel();
        PushCalleeDepth(type);
        if (functionIndex < _module.ImportedFunctionCount)
        {
            var callee = CalleeLocal();
            il.EmitArg(OpCodes.Ldarg, _ctxArg);
            il.Emit(OpCodes.Ldfld, Il.CtxFunctions);
            _il.EmitInt((int)functionIndex);
            il.Emit(OpCodes.Ldelem_Ref);
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Stloc, callee);
            il.Emit(OpCodes.Ldfld, Il.FunctionContext);
            il.Emit(OpCodes.Ldloc, callee);
            il.Emit(OpCodes.Call, Il.FunctionEntryPoint);
            _il.EmitCalli(type);
        }
        else
        {
            // Itself or an already translated function: a direct call. Otherwise through the module's entry slot,
            // which translates the callee on its first call.
            var definedIndex = (int)functionIndex - _module.ImportedFunctionCount;
            var target = definedIndex == _definedIndex ? _self : _owner.TranslatedMethod(definedIndex);
            il.EmitArg(OpCodes.Ldarg, _ctxArg);
            if (target is not null)
            {
                il.Emit(OpCodes.Call, target);
            }
            else
            {
                il.EmitArg(OpCodes.Ldarg, _ctxArg);
                _il.EmitInt(definedIndex);
                il.Emit(OpCodes.Call, Il.ModuleFunctionEntry);
                _il.EmitCalli(type);
            }
        }

        AfterCall(type);
    }

    private void EmitCallIndirect(uint typeIndex, uint tableIndex)
    {
        var type = _module.Types[typeIndex];
        var il = _il;
        Pop(); // element index
        var index = Temp(WasmValueType.I32, 201);
        var elements = _elementsLocal ??= _il.DeclareLocal(typeof(object[]));
        var callee = CalleeLocal();
        il.Emit(OpCodes.Stloc, index);
        il.EmitArg(OpCodes.Ldarg, _ctxArg);
        il.Emit(OpCodes.Ldfld, Il.CtxTables);
        _il.EmitInt((int)tableIndex);
        il.Emit(OpCodes.Ldelem_Ref);
        il.Emit(OpCodes.Ldfld, Il.TableElements);
        il.Emit(OpCodes.Stloc, elements);

        var inBounds = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, index);
        il.Emit(OpCodes.Ldloc, elements);
        il.Emit(OpCodes.Ldlen);
        il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Blt_Un, inBounds);
        EmitTrap(TrapKind.TableOutOfBounds); // message: "undefined element"
        il.MarkLabel(inBounds);

        var notNull = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, elements);
        il.Emit(OpCodes.Ldloc, index);
        il.Emit(OpCodes.Ldelem_Ref);
        il.Emit(OpCodes.Castclass, typeof(Function));
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Stloc, callee);
        il.Emit(OpCodes.Brtrue, notNull);
        il.Emit(OpCodes.Ldloc, index);
        il.Emit(OpCodes.Call, Il.Method(typeof(Traps), nameof(Traps.UninitializedElement)));
        il.Emit(OpCodes.Throw);
        il.MarkLabel(notNull);

        var typeOk = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, callee);
        il.Emit(OpCodes.Ldfld, Il.FunctionTypeId);
        _il.EmitInt(_owner.TypeIds[typeIndex]);
        il.Emit(OpCodes.Beq, typeOk);
        EmitTrap(TrapKind.IndirectCallTypeMismatch);
        il.MarkLabel(typeOk);

        SaveFuel();
        PushCalleeDepth(type);
        il.Emit(OpCodes.Ldloc, callee);
        il.Emit(OpCodes.Ldfld, Il.FunctionContext);
        il.Emit(OpCodes.Ldloc, callee);
        il.Emit(OpCodes.Call, Il.FunctionEntryPoint);
        _il.EmitCalli(type);
        AfterCall(type);
    }

    private IlLocal CalleeLocal() => _calleeLocal ??= _il.DeclareLocal(typeof(Function));

    private void AfterCall(FuncType type)
    {
        Pop(type.Parameters.Count);
        var results = type.ResultSpan;
        if (results.Length > 1)
        {
            for (var i = 0; i < results.Length; i++)
            {
                EmitLoadSlot(i, results[i]);
            }
        }

        foreach (var r in results)
        {
            Push(r);
        }

        LoadFuel();
        ReloadMemory();
    }

    // ---- memory -----------------------------------------------------------------------------------------------

    private void EmitAddress(ulong offset, int size)
    {
        // Stack: i32 address → stored in _addr; checks (ulong)(uint)addr + offset + size <= length, then pushes base + addr + offset.
        var il = _il;
        il.Emit(OpCodes.Stloc, _addr!.Value);
        il.Emit(OpCodes.Ldloc, _addr!.Value);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Ldc_I8, (long)(offset + (ulong)size));
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ldloc, _memLength!.Value);
        var ok = il.DefineLabel();
        il.Emit(OpCodes.Ble_Un, ok);
        EmitTrap(TrapKind.MemoryOutOfBounds);
        il.MarkLabel(ok);
        il.Emit(OpCodes.Ldloc, _memBase!.Value);
        il.Emit(OpCodes.Ldloc, _addr!.Value);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Add);
        if (offset != 0)
        {
            il.Emit(OpCodes.Ldc_I8, (long)offset);
            il.Emit(OpCodes.Conv_U);
            il.Emit(OpCodes.Add);
        }
    }

    private void EmitLoad(Opcode opcode, ulong offset)
    {
        Pop();
        var il = _il;
        switch (opcode)
        {
            case Opcode.I32Load: EmitAddress(offset, 4); il.Emit(OpCodes.Ldind_I4); Push(WasmValueType.I32); break;
            case Opcode.I64Load: EmitAddress(offset, 8); il.Emit(OpCodes.Ldind_I8); Push(WasmValueType.I64); break;
            case Opcode.F32Load: EmitAddress(offset, 4); il.Emit(OpCodes.Ldind_R4); Push(WasmValueType.F32); break;
            case Opcode.F64Load: EmitAddress(offset, 8); il.Emit(OpCodes.Ldind_R8); Push(WasmValueType.F64); break;
            case Opcode.I32Load8S: EmitAddress(offset, 1); il.Emit(OpCodes.Ldind_I1); Push(WasmValueType.I32); break;
            case Opcode.I32Load8U: EmitAddress(offset, 1); il.Emit(OpCodes.Ldind_U1); Push(WasmValueType.I32); break;
            case Opcode.I32Load16S: EmitAddress(offset, 2); il.Emit(OpCodes.Ldind_I2); Push(WasmValueType.I32); break;
            case Opcode.I32Load16U: EmitAddress(offset, 2); il.Emit(OpCodes.Ldind_U2); Push(WasmValueType.I32); break;
            case Opcode.I64Load8S: EmitAddress(offset, 1); il.Emit(OpCodes.Ldind_I1); il.Emit(OpCodes.Conv_I8); Push(WasmValueType.I64); break;
            case Opcode.I64Load8U: EmitAddress(offset, 1); il.Emit(OpCodes.Ldind_U1); il.Emit(OpCodes.Conv_U8); Push(WasmValueType.I64); break;
            case Opcode.I64Load16S: EmitAddress(offset, 2); il.Emit(OpCodes.Ldind_I2); il.Emit(OpCodes.Conv_I8); Push(WasmValueType.I64); break;
            case Opcode.I64Load16U: EmitAddress(offset, 2); il.Emit(OpCodes.Ldind_U2); il.Emit(OpCodes.Conv_U8); Push(WasmValueType.I64); break;
            case Opcode.I64Load32S: EmitAddress(offset, 4); il.Emit(OpCodes.Ldind_I4); il.Emit(OpCodes.Conv_I8); Push(WasmValueType.I64); break;
            case Opcode.I64Load32U: EmitAddress(offset, 4); il.Emit(OpCodes.Ldind_U4); il.Emit(OpCodes.Conv_U8); Push(WasmValueType.I64); break;
            default: throw new InvalidOperationException(opcode.ToString());
        }
    }

    private void EmitStore(Opcode opcode, ulong offset)
    {
        var type = Pop();
        Pop();
        var il = _il;
        var value = Temp(type, 0);
        il.Emit(OpCodes.Stloc, value);
        var (size, store, narrow) = opcode switch
        {
            Opcode.I32Store => (4, OpCodes.Stind_I4, false),
            Opcode.I64Store => (8, OpCodes.Stind_I8, false),
            Opcode.F32Store => (4, OpCodes.Stind_R4, false),
            Opcode.F64Store => (8, OpCodes.Stind_R8, false),
            Opcode.I32Store8 => (1, OpCodes.Stind_I1, false),
            Opcode.I32Store16 => (2, OpCodes.Stind_I2, false),
            Opcode.I64Store8 => (1, OpCodes.Stind_I1, true),
            Opcode.I64Store16 => (2, OpCodes.Stind_I2, true),
            Opcode.I64Store32 => (4, OpCodes.Stind_I4, true),
            _ => throw new InvalidOperationException(opcode.ToString()),
        };
        EmitAddress(offset, size);
        il.Emit(OpCodes.Ldloc, value);
        if (narrow)
        {
            il.Emit(OpCodes.Conv_I4);
        }

        il.Emit(store);
    }

    // ---- numeric ----------------------------------------------------------------------------------------------

    private void EmitNumeric(Opcode opcode)
    {
        var il = _il;
        switch (opcode)
        {
            case Opcode.I32Eqz: Unary(WasmValueType.I32); il.Emit(OpCodes.Ldc_I4_0); il.Emit(OpCodes.Ceq); break;
            case Opcode.I64Eqz: Unary(WasmValueType.I32); il.Emit(OpCodes.Ldc_I4_0); il.Emit(OpCodes.Conv_I8); il.Emit(OpCodes.Ceq); break;
            case Opcode.I32Eq or Opcode.I64Eq or Opcode.F32Eq or Opcode.F64Eq: Compare(); il.Emit(OpCodes.Ceq); break;
            case Opcode.I32Ne or Opcode.I64Ne or Opcode.F32Ne or Opcode.F64Ne: Compare(); il.Emit(OpCodes.Ceq); Not(); break;
            case Opcode.I32LtS or Opcode.I64LtS or Opcode.F32Lt or Opcode.F64Lt: Compare(); il.Emit(OpCodes.Clt); break;
            case Opcode.I32LtU or Opcode.I64LtU: Compare(); il.Emit(OpCodes.Clt_Un); break;
            case Opcode.I32GtS or Opcode.I64GtS or Opcode.F32Gt or Opcode.F64Gt: Compare(); il.Emit(OpCodes.Cgt); break;
            case Opcode.I32GtU or Opcode.I64GtU: Compare(); il.Emit(OpCodes.Cgt_Un); break;
            case Opcode.I32LeS or Opcode.I64LeS: Compare(); il.Emit(OpCodes.Cgt); Not(); break;
            case Opcode.I32LeU or Opcode.I64LeU or Opcode.F32Le or Opcode.F64Le: Compare(); il.Emit(OpCodes.Cgt_Un); Not(); break;
            case Opcode.I32GeS or Opcode.I64GeS: Compare(); il.Emit(OpCodes.Clt); Not(); break;
            case Opcode.I32GeU or Opcode.I64GeU or Opcode.F32Ge or Opcode.F64Ge: Compare(); il.Emit(OpCodes.Clt_Un); Not(); break;

            case Opcode.I32Clz: Unary(WasmValueType.I32); CallNumeric("Clz", typeof(int)); break;
            case Opcode.I32Ctz: Unary(WasmValueType.I32); CallNumeric("Ctz", typeof(int)); break;
            case Opcode.I32Popcnt: Unary(WasmValueType.I32); CallNumeric("Popcnt", typeof(int)); break;
            case Opcode.I64Clz: Unary(WasmValueType.I64); CallNumeric("Clz", typeof(long)); break;
            case Opcode.I64Ctz: Unary(WasmValueType.I64); CallNumeric("Ctz", typeof(long)); break;
            case Opcode.I64Popcnt: Unary(WasmValueType.I64); CallNumeric("Popcnt", typeof(long)); break;

            case Opcode.I32Add or Opcode.I64Add: Binary(); il.Emit(OpCodes.Add); break;
            case Opcode.I32Sub or Opcode.I64Sub: Binary(); il.Emit(OpCodes.Sub); break;
            case Opcode.I32Mul or Opcode.I64Mul: Binary(); il.Emit(OpCodes.Mul); break;
            case Opcode.I32DivS: Binary(); CallNumeric("DivS", typeof(int), typeof(int)); break;
            case Opcode.I32DivU: Binary(); CallNumeric("DivU", typeof(int), typeof(int)); break;
            case Opcode.I32RemS: Binary(); CallNumeric("RemS", typeof(int), typeof(int)); break;
            case Opcode.I32RemU: Binary(); CallNumeric("RemU", typeof(int), typeof(int)); break;
            case Opcode.I64DivS: Binary(); CallNumeric("DivS", typeof(long), typeof(long)); break;
            case Opcode.I64DivU: Binary(); CallNumeric("DivU", typeof(long), typeof(long)); break;
            case Opcode.I64RemS: Binary(); CallNumeric("RemS", typeof(long), typeof(long)); break;
            case Opcode.I64RemU: Binary(); CallNumeric("RemU", typeof(long), typeof(long)); break;
            case Opcode.I32And or Opcode.I64And: Binary(); il.Emit(OpCodes.And); break;
            case Opcode.I32Or or Opcode.I64Or: Binary(); il.Emit(OpCodes.Or); break;
            case Opcode.I32Xor or Opcode.I64Xor: Binary(); il.Emit(OpCodes.Xor); break;
            case Opcode.I32Shl: Binary(); Mask32(); il.Emit(OpCodes.Shl); break;
            case Opcode.I32ShrS: Binary(); Mask32(); il.Emit(OpCodes.Shr); break;
            case Opcode.I32ShrU: Binary(); Mask32(); il.Emit(OpCodes.Shr_Un); break;
            case Opcode.I64Shl: Binary(); Mask64(); il.Emit(OpCodes.Shl); break;
            case Opcode.I64ShrS: Binary(); Mask64(); il.Emit(OpCodes.Shr); break;
            case Opcode.I64ShrU: Binary(); Mask64(); il.Emit(OpCodes.Shr_Un); break;
            case Opcode.I32Rotl: Binary(); CallNumeric("Rotl", typeof(int), typeof(int)); break;
            case Opcode.I32Rotr: Binary(); CallNumeric("Rotr", typeof(int), typeof(int)); break;
            case Opcode.I64Rotl: Binary(); CallNumeric("Rotl", typeof(long), typeof(long)); break;
            case Opcode.I64Rotr: Binary(); CallNumeric("Rotr", typeof(long), typeof(long)); break;

            // abs/neg are sign-bit operations (JIT intrinsics: and/xor with a mask), so NaN payloads pass through.
            case Opcode.F32Abs: il.Emit(OpCodes.Call, AbsF32); break;
            case Opcode.F64Abs: il.Emit(OpCodes.Call, AbsF64); break;
            case Opcode.F32Neg or Opcode.F64Neg: il.Emit(OpCodes.Neg); break;
            case Opcode.F32Ceil: CallFloatNumeric("Ceil", typeof(float)); break;
            case Opcode.F64Ceil: CallFloatNumeric("Ceil", typeof(double)); break;
            case Opcode.F32Floor: CallFloatNumeric("Floor", typeof(float)); break;
            case Opcode.F64Floor: CallFloatNumeric("Floor", typeof(double)); break;
            case Opcode.F32Trunc: CallFloatNumeric("Trunc", typeof(float)); break;
            case Opcode.F64Trunc: CallFloatNumeric("Trunc", typeof(double)); break;
            case Opcode.F32Nearest: CallFloatNumeric("Nearest", typeof(float)); break;
            case Opcode.F64Nearest: CallFloatNumeric("Nearest", typeof(double)); break;
            case Opcode.F32Sqrt: CallFloatNumeric("Sqrt", typeof(float)); break;
            case Opcode.F64Sqrt: CallFloatNumeric("Sqrt", typeof(double)); break;
            case Opcode.F32Add: Binary(); il.Emit(OpCodes.Add); MarkUncanonicalized(); break;
            case Opcode.F64Add: Binary(); il.Emit(OpCodes.Add); MarkUncanonicalized(); break;
            case Opcode.F32Sub: Binary(); il.Emit(OpCodes.Sub); MarkUncanonicalized(); break;
            case Opcode.F64Sub: Binary(); il.Emit(OpCodes.Sub); MarkUncanonicalized(); break;
            case Opcode.F32Mul: Binary(); il.Emit(OpCodes.Mul); MarkUncanonicalized(); break;
            case Opcode.F64Mul: Binary(); il.Emit(OpCodes.Mul); MarkUncanonicalized(); break;
            case Opcode.F32Div: Binary(); il.Emit(OpCodes.Div); MarkUncanonicalized(); break;
            case Opcode.F64Div: Binary(); il.Emit(OpCodes.Div); MarkUncanonicalized(); break;
            case Opcode.F32Min: Binary(); CallFloatNumeric("Min", typeof(float), typeof(float)); break;
            case Opcode.F64Min: Binary(); CallFloatNumeric("Min", typeof(double), typeof(double)); break;
            case Opcode.F32Max: Binary(); CallFloatNumeric("Max", typeof(float), typeof(float)); break;
            case Opcode.F64Max: Binary(); CallFloatNumeric("Max", typeof(double), typeof(double)); break;
            case Opcode.F32Copysign: Binary(); CallNumeric("CopySign", typeof(float), typeof(float)); break;
            case Opcode.F64Copysign: Binary(); CallNumeric("CopySign", typeof(double), typeof(double)); break;

            case Opcode.I32WrapI64: Unary(WasmValueType.I32); il.Emit(OpCodes.Conv_I4); break;
            case Opcode.I32TruncF32S: Unary(WasmValueType.I32); CallNumeric("I32TruncF32S", typeof(float)); break;
            case Opcode.I32TruncF32U: Unary(WasmValueType.I32); CallNumeric("I32TruncF32U", typeof(float)); break;
            case Opcode.I32TruncF64S: Unary(WasmValueType.I32); CallNumeric("I32TruncF64S", typeof(double)); break;
            case Opcode.I32TruncF64U: Unary(WasmValueType.I32); CallNumeric("I32TruncF64U", typeof(double)); break;
            case Opcode.I64ExtendI32S: Unary(WasmValueType.I64); il.Emit(OpCodes.Conv_I8); break;
            case Opcode.I64ExtendI32U: Unary(WasmValueType.I64); il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Conv_U8); break;
            case Opcode.I64TruncF32S: Unary(WasmValueType.I64); CallNumeric("I64TruncF32S", typeof(float)); break;
            case Opcode.I64TruncF32U: Unary(WasmValueType.I64); CallNumeric("I64TruncF32U", typeof(float)); break;
            case Opcode.I64TruncF64S: Unary(WasmValueType.I64); CallNumeric("I64TruncF64S", typeof(double)); break;
            case Opcode.I64TruncF64U: Unary(WasmValueType.I64); CallNumeric("I64TruncF64U", typeof(double)); break;
            case Opcode.F32ConvertI32S: Unary(WasmValueType.F32); il.Emit(OpCodes.Conv_R4); break;
            case Opcode.F32ConvertI32U: Unary(WasmValueType.F32); CallNumeric("U32ToF32", typeof(int)); break;
            case Opcode.F32ConvertI64S: Unary(WasmValueType.F32); il.Emit(OpCodes.Conv_R4); break;
            case Opcode.F32ConvertI64U: Unary(WasmValueType.F32); CallNumeric("U64ToF32", typeof(long)); break;
            case Opcode.F32DemoteF64: Unary(WasmValueType.F32); CallFloatNumeric("DemoteF64", typeof(double)); break;
            case Opcode.F64ConvertI32S: Unary(WasmValueType.F64); il.Emit(OpCodes.Conv_R8); break;
            case Opcode.F64ConvertI32U: Unary(WasmValueType.F64); CallNumeric("U32ToF64", typeof(int)); break;
            case Opcode.F64ConvertI64S: Unary(WasmValueType.F64); il.Emit(OpCodes.Conv_R8); break;
            case Opcode.F64ConvertI64U: Unary(WasmValueType.F64); CallNumeric("U64ToF64", typeof(long)); break;
            case Opcode.F64PromoteF32: Unary(WasmValueType.F64); CallFloatNumeric("PromoteF32", typeof(float)); break;
            case Opcode.I32ReinterpretF32: Unary(WasmValueType.I32); il.Emit(OpCodes.Call, Il.F32ToBits); break;
            case Opcode.I64ReinterpretF64: Unary(WasmValueType.I64); il.Emit(OpCodes.Call, Il.F64ToBits); break;
            // int → float reinterprets go through an opaque helper: the .NET 10 JIT folds a bitcast of a narrow load
            // (i32.load16_u; f32.reinterpret_i32) into a wider float load, reading bytes past the 16 bits.
            case Opcode.F32ReinterpretI32: Unary(WasmValueType.F32); CallNumeric(nameof(Numeric.F32FromBitsOpaque), typeof(int)); break;
            case Opcode.F64ReinterpretI64: Unary(WasmValueType.F64); CallNumeric(nameof(Numeric.F64FromBitsOpaque), typeof(long)); break;
            case Opcode.I32Extend8S: il.Emit(OpCodes.Conv_I1); break;
            case Opcode.I32Extend16S: il.Emit(OpCodes.Conv_I2); break;
            case Opcode.I64Extend8S: il.Emit(OpCodes.Conv_I1); il.Emit(OpCodes.Conv_I8); break;
            case Opcode.I64Extend16S: il.Emit(OpCodes.Conv_I2); il.Emit(OpCodes.Conv_I8); break;
            case Opcode.I64Extend32S: il.Emit(OpCodes.Conv_I4); il.Emit(OpCodes.Conv_I8); break;

            case Opcode.I32TruncSatF32S: Unary(WasmValueType.I32); CallNumeric("I32TruncSatF32S", typeof(float)); break;
            case Opcode.I32TruncSatF32U: Unary(WasmValueType.I32); CallNumeric("I32TruncSatF32U", typeof(float)); break;
            case Opcode.I32TruncSatF64S: Unary(WasmValueType.I32); CallNumeric("I32TruncSatF64S", typeof(double)); break;
            case Opcode.I32TruncSatF64U: Unary(WasmValueType.I32); CallNumeric("I32TruncSatF64U", typeof(double)); break;
            case Opcode.I64TruncSatF32S: Unary(WasmValueType.I64); CallNumeric("I64TruncSatF32S", typeof(float)); break;
            case Opcode.I64TruncSatF32U: Unary(WasmValueType.I64); CallNumeric("I64TruncSatF32U", typeof(float)); break;
            case Opcode.I64TruncSatF64S: Unary(WasmValueType.I64); CallNumeric("I64TruncSatF64S", typeof(double)); break;
            case Opcode.I64TruncSatF64U: Unary(WasmValueType.I64); CallNumeric("I64TruncSatF64U", typeof(double)); break;
            default:
                throw new WasmUnsupportedFeatureException($"operator {opcode} is not supported");
        }
    }

    /// <summary>Replaces the operand type on top of the type stack by <paramref name="result"/>.</summary>
    private void Unary(WasmValueType result)
    {
        Pop();
        Push(result);
    }

    /// <summary>Two operands of the same type → one of that type.</summary>
    private void Binary() => Pop();

    /// <summary>Two operands → i32.</summary>
    private void Compare()
    {
        Pop(2);
        Push(WasmValueType.I32);
    }

    private void Not()
    {
        _il.Emit(OpCodes.Ldc_I4_0);
        _il.Emit(OpCodes.Ceq);
    }

    private void Mask32()
    {
        _il.EmitInt(31);
        _il.Emit(OpCodes.And);
    }

    private void Mask64()
    {
        _il.Emit(OpCodes.Conv_I4);
        _il.EmitInt(63);
        _il.Emit(OpCodes.And);
    }

    // ---- lazy NaN canonicalization -----------------------------------------------------------------------------
    //
    // A float arithmetic result is canonicalized where its bits can first be observed, not where it is produced:
    // IEEE operations, comparisons and float→int conversions depend only on whether an operand is a NaN, never on
    // its sign or payload, so `a * b + c` needs one check on the sum instead of one per operation. An uncanonicalized
    // value lives only on the operand stack; every other operator (local/global writes, stores, reinterpret,
    // abs/neg/copysign, select, calls, all control flow) first canonicalizes every such value on the stack. Values
    // that were never produced by arithmetic (loads, constants, locals, parameters) keep their payloads as before.

    /// <summary>Whether <paramref name="opcode"/> leaves uncanonicalized NaNs unobservable: it only pushes, works on
    /// integers, or consumes floats through IEEE arithmetic, comparison or conversion, and produces at most one value.</summary>
    private static bool KeepsUncanonicalized(Opcode opcode) => opcode switch
    {
        Opcode.Drop or Opcode.LocalGet or Opcode.LocalSet or Opcode.LocalTee or Opcode.GlobalGet or Opcode.MemorySize => true,
        >= Opcode.I32Load and <= Opcode.I64Load32U => true,
        >= Opcode.I32Const and <= Opcode.F64Const => true,
        Opcode.F32Abs or Opcode.F32Neg or Opcode.F32Copysign or Opcode.F64Abs or Opcode.F64Neg or Opcode.F64Copysign => false,
        >= Opcode.I32ReinterpretF32 and <= Opcode.F64ReinterpretI64 => false,
        >= Opcode.I32Eqz and <= Opcode.I64Extend32S => true,
        _ => false,
    };

    /// <summary>
    /// Before <c>local.set</c>/<c>local.tee</c>: the local now holds an uncanonicalized value if the stack top is one
    /// (the check moves to the control operator that ends the segment, where the JIT drops it if the local is dead).
    /// </summary>
    private void TrackLocalWrite(uint index)
    {
        var topUncanonical = _uncanonicalized.Count > 0 && _uncanonicalized[^1] == _stack.Count - 1;
        var known = _uncanonicalizedLocals.IndexOf(index);
        if (topUncanonical && known < 0)
        {
            _uncanonicalizedLocals.Add(index);
        }
        else if (!topUncanonical && known >= 0)
        {
            _uncanonicalizedLocals.RemoveAt(known);
        }
    }

    /// <summary>Before a control operator or call: canonicalizes every local written with an uncanonicalized value,
    /// in place, so every path into a label or out of the function sees only canonical NaNs in locals.</summary>
    private void CanonicalizeLocals()
    {
        foreach (var index in _uncanonicalizedLocals)
        {
            EmitLocalGet(index);
            Canon(_localTypes[index] == WasmValueType.F32 ? typeof(float) : typeof(double));
            EmitLocalSet(index);
        }

        _uncanonicalizedLocals.Clear();
    }

    /// <summary>After an operator that keeps uncanonicalized values: forgets the positions it consumed or overwrote
    /// (<paramref name="firstWritten"/> and above) and records its own result if that is uncanonicalized.</summary>
    private void TrackUncanonicalized(int firstWritten)
    {
        while (_uncanonicalized.Count > 0 && _uncanonicalized[^1] >= firstWritten)
        {
            _uncanonicalized.RemoveAt(_uncanonicalized.Count - 1);
        }

        if (_producedUncanonical)
        {
            _uncanonicalized.Add(_stack.Count - 1);
            _producedUncanonical = false;
        }
    }

    /// <summary>The float result just pushed may be a NaN with any sign and payload (when canonicalization is on).</summary>
    private void MarkUncanonicalized() => _producedUncanonical = _canon;

    /// <summary>Canonicalizes every uncanonicalized value on the operand stack; values above the deepest one are
    /// moved through temporaries (rare: compilers keep arithmetic results on top).</summary>
    private void CanonicalizeStack()
    {
        var deepest = _uncanonicalized[0];
        var top = _stack.Count - 1;
        for (var i = top; i > deepest; i--)
        {
            _il.Emit(OpCodes.Stloc, Temp(_stack[i], 400 + i));
        }

        var next = 0;
        for (var i = deepest; i <= top; i++)
        {
            if (i > deepest)
            {
                _il.Emit(OpCodes.Ldloc, Temp(_stack[i], 400 + i));
            }

            if (next < _uncanonicalized.Count && _uncanonicalized[next] == i)
            {
                Canon(_stack[i] == WasmValueType.F32 ? typeof(float) : typeof(double));
                next++;
            }
        }

        _uncanonicalized.Clear();
    }

    /// <summary>
    /// Replaces a NaN on top of the stack by the canonical NaN, inline: <c>t = x; if (t != t) t = NaN;</c>. The JIT
    /// turns this into a self-compare and a never-taken jump, off the critical path of the arithmetic (a
    /// compare-and-blend would add its latency to every dependent operation, and a helper call runs into the JIT's
    /// inlining budget in large functions).
    /// </summary>
    private void Canon(Type type)
    {
        if (!_canon)
        {
            return;
        }

        var value = Temp(type == typeof(float) ? WasmValueType.F32 : WasmValueType.F64, 300);
        var done = _il.DefineLabel();
        _il.Emit(OpCodes.Stloc, value);
        _il.Emit(OpCodes.Ldloc, value);
        _il.Emit(OpCodes.Ldloc, value);
        _il.Emit(OpCodes.Beq, done);
        if (type == typeof(float))
        {
            _il.Emit(OpCodes.Ldc_R4, BitConverter.UInt32BitsToSingle(Numeric.CanonicalF32Bits));
        }
        else
        {
            _il.Emit(OpCodes.Ldc_R8, BitConverter.UInt64BitsToDouble(Numeric.CanonicalF64Bits));
        }

        _il.Emit(OpCodes.Stloc, value);
        _il.MarkLabel(done);
        _il.Emit(OpCodes.Ldloc, value);
    }

    private void CallNumeric(string name, params Type[] parameters) => _il.Emit(OpCodes.Call, NumericMethods.Get(name, parameters));

    /// <summary>A float helper that may produce a NaN, in its <c>Raw</c> form: the NaN is canonicalized where it becomes observable.</summary>
    private void CallFloatNumeric(string name, params Type[] parameters)
    {
        CallNumeric(name + "Raw", parameters);
        MarkUncanonicalized();
    }

    private void EmitTrap(TrapKind kind)
    {
        SaveFuel();
        _il.EmitInt((int)kind);
        _il.Emit(OpCodes.Call, Il.CreateTrap);
        _il.Emit(OpCodes.Throw);
    }

    private void EmitToBits(WasmValueType type)
    {
        switch (type)
        {
            case WasmValueType.I32:
                _il.Emit(OpCodes.Conv_U4);
                _il.Emit(OpCodes.Conv_U8);
                break;
            case WasmValueType.F32:
                _il.Emit(OpCodes.Call, Il.F32ToBits);
                _il.Emit(OpCodes.Conv_U8);
                break;
            case WasmValueType.F64:
                _il.Emit(OpCodes.Call, Il.F64ToBits);
                break;
        }
    }

    private void EmitFromBits(WasmValueType type)
    {
        switch (type)
        {
            case WasmValueType.I32:
                _il.Emit(OpCodes.Conv_I4);
                break;
            case WasmValueType.F32:
                _il.Emit(OpCodes.Conv_U4);
                _il.Emit(OpCodes.Call, Il.F32FromBits);
                break;
            case WasmValueType.F64:
                _il.Emit(OpCodes.Call, Il.F64FromBits);
                break;
        }
    }

    private void EmitLoadSlot(int index, WasmValueType type)
    {
        _il.Emit(OpCodes.Ldloc, _store);
        if (type.IsReference())
        {
            _il.Emit(OpCodes.Ldfld, Il.StoreResultRefs);
            _il.EmitInt(index);
            _il.Emit(OpCodes.Ldelem_Ref);
        }
        else
        {
            _il.Emit(OpCodes.Ldfld, Il.StoreResultBits);
            _il.EmitInt(index);
            _il.Emit(OpCodes.Ldelem_I8);
            EmitFromBits(type);
        }
    }

    private void EmitStoreSlot(int index, WasmValueType type, IlLocal value)
    {
        _il.Emit(OpCodes.Ldloc, _store);
        if (type.IsReference())
        {
            _il.Emit(OpCodes.Ldfld, Il.StoreResultRefs);
            _il.EmitInt(index);
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Stelem_Ref);
        }
        else
        {
            _il.Emit(OpCodes.Ldfld, Il.StoreResultBits);
            _il.EmitInt(index);
            _il.Emit(OpCodes.Ldloc, value);
            EmitToBits(type);
            _il.Emit(OpCodes.Stelem_I8);
        }
    }

    private sealed class Frame
    {
        public Frame(FrameKind kind, IlLabel label, int height, WasmValueType[] parameters, WasmValueType[] results)
        {
            Kind = kind;
            Label = label;
            Height = height;
            Params = parameters;
            Results = results;
        }

        public FrameKind Kind { get; }

        /// <summary>Branch target: the loop header for loops, the end otherwise.</summary>
        public IlLabel Label { get; }

        public IlLabel ElseLabel { get; init; }

        /// <summary>Type-stack height below the block's parameters.</summary>
        public int Height { get; }

        public WasmValueType[] Params { get; }

        public WasmValueType[] Results { get; }

        public bool Targeted { get; set; }

        public bool ElseMarked { get; set; }
    }
}

/// <summary>Cached <see cref="Numeric"/> method handles by name and parameter types.</summary>
internal static class NumericMethods
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, MethodInfo> Cache = new(StringComparer.Ordinal);

    public static MethodInfo Get(string name, params Type[] parameters) =>
        Cache.GetOrAdd(
            name + "(" + string.Join(",", parameters.Select(p => p.Name)) + ")",
            _ => typeof(Numeric).GetMethod(name, BindingFlags.Public | BindingFlags.Static, parameters)
                ?? throw new MissingMethodException(nameof(Numeric), name));
}

/// <summary>Cached <see cref="RuntimeOps"/> method handles by name.</summary>
internal static class RuntimeOpMethods
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, MethodInfo> Cache = new(StringComparer.Ordinal);

    public static MethodInfo Get(string name) => Cache.GetOrAdd(name, static n => Il.Method(typeof(RuntimeOps), n));
}
