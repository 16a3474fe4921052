namespace Xmbl.Cluster.Wasm.Tests.Module;

/// <summary>
/// Generates random, valid, terminating WebAssembly modules (binary) for differential testing. Every exported
/// function <c>run_N</c> has type <c>[] -&gt; [i64]</c>; all results are deterministic across engines: loops are
/// bounded by private counters, calls only go to lower-indexed functions, memory addresses are masked into the first
/// page, and float bits are only observed through a wrapper that maps every NaN to one canonical pattern.
/// </summary>
internal sealed class RandomProgramGenerator
{
    private const byte I32 = 0x7F;
    private const byte I64 = 0x7E;
    private const byte F32 = 0x7D;
    private const byte F64 = 0x7C;
    private const int TableSize = 8;
    private static readonly byte[] NumberTypes = [I32, I64, F32, F64];

    private readonly Random _random;
    private readonly List<(byte[] Params, byte[] Results, int TypeIndex)> _functions = [];
    private readonly List<(byte[] Params, byte[] Results)> _types = [];
    private readonly List<byte[]> _bodies = [];

    // Per-function generation state.
    private List<byte> _code = [];
    private List<byte> _localTypes = [];
    private int _paramCount;
    private readonly List<int> _freeLocals = [];
    private int _currentFunction;
    private int _helperCount;

    public RandomProgramGenerator(int seed)
    {
        _random = new Random(seed);
    }

    /// <summary>Names of the exported functions, in export order.</summary>
    public List<string> Exports { get; } = [];

    public byte[] Generate(int helperFunctions = 6, int runFunctions = 4)
    {
        _helperCount = helperFunctions;
        for (var i = 0; i < helperFunctions; i++)
        {
            var paramCount = _random.Next(4);
            var parameters = Enumerable.Range(0, paramCount).Select(_ => Pick(NumberTypes)).ToArray();
            // Mostly one result; sometimes two or three (multi-value returns).
            var resultCount = _random.Next(4) == 0 ? 2 + _random.Next(2) : 1;
            var results = Enumerable.Range(0, resultCount).Select(_ => Pick(NumberTypes)).ToArray();
            _functions.Add((parameters, results, TypeIndex(parameters, results)));
            _bodies.Add(GenerateBody(i, parameters, results, 4));
        }

        for (var i = 0; i < runFunctions; i++)
        {
            var index = _functions.Count;
            _functions.Add(([], [I64], TypeIndex([], [I64])));
            _bodies.Add(GenerateBody(index, [], [I64], 5));
            Exports.Add("run_" + i);
        }

        return Assemble(helperFunctions);
    }

    private byte[] GenerateBody(int index, byte[] parameters, byte[] results, int depth)
    {
        _currentFunction = index;
        _code = [];
        _localTypes = [.. parameters];
        _paramCount = parameters.Length;
        _freeLocals.Clear();
        for (var i = 0; i < parameters.Length; i++)
        {
            _freeLocals.Add(i);
        }

        foreach (var t in NumberTypes)
        {
            _freeLocals.Add(NewLocal(t));
        }

        var statements = 1 + _random.Next(4);
        for (var i = 0; i < statements; i++)
        {
            Statement(depth);
        }

        foreach (var result in results)
        {
            Expression(result, depth);
        }

        if (index >= _helperCount)
        {
            // Fold globals and a few memory words into the result so side effects are observed.
            for (var g = 0; g < 4; g++)
            {
                Emit(0x23, (byte)g);
                ToI64(NumberTypes[g]);
                Emit(0x85); // i64.xor
            }

            Emit(0x41, 0x00, 0x29, 0x03, 0x00, 0x85);      // i64.load at 0, xor
            Emit(0x41, 0x80, 0x01, 0x29, 0x03, 0x08, 0x85); // i64.load at 128+8, xor
        }

        Emit(0x0B);
        var locals = new List<byte>();
        var declared = _localTypes.Skip(_paramCount).ToList();
        locals.AddRange(Leb((uint)declared.Count));
        foreach (var t in declared)
        {
            locals.Add(0x01);
            locals.Add(t);
        }

        return [.. locals, .. _code];
    }

    private int NewLocal(byte type)
    {
        _localTypes.Add(type);
        return _localTypes.Count - 1;
    }

    private void Statement(int depth)
    {
        switch (depth <= 0 ? 0 : _random.Next(11))
        {
            case 9:
                BulkStatement(depth);
                break;
            case 10:
                TableStatement();
                break;
            case 0:
            case 1:
                {
                    var local = PickLocal(null);
                    Expression(_localTypes[local], depth - 1);
                    Emit(0x21);
                    EmitLeb((uint)local);
                    break;
                }

            case 2:
                {
                    var g = _random.Next(4);
                    Expression(NumberTypes[g], depth - 1);
                    Emit(0x24, (byte)g);
                    break;
                }

            case 3:
                {
                    // Integer store at a masked address (floats are never stored: their NaN bits could differ).
                    Address(depth - 1);
                    var wide = _random.Next(2) == 0;
                    Expression(wide ? I64 : I32, depth - 1);
                    var (op, align) = wide
                        ? Pick(new (byte, byte)[] { (0x37, 3), (0x3C, 0), (0x3D, 1), (0x3E, 2) })
                        : Pick(new (byte, byte)[] { (0x36, 2), (0x3A, 0), (0x3B, 1) });
                    Emit(op, (byte)_random.Next(align + 1), (byte)_random.Next(9));
                    break;
                }

            case 4:
                {
                    // Bounded loop with a private counter.
                    var counter = NewLocal(I32);
                    Emit(0x41, (byte)(1 + _random.Next(4)), 0x21);
                    EmitLeb((uint)counter);
                    Emit(0x03, 0x40);
                    var n = 1 + _random.Next(3);
                    for (var i = 0; i < n; i++)
                    {
                        Statement(depth - 1);
                    }

                    Emit(0x20);
                    EmitLeb((uint)counter);
                    Emit(0x41, 0x01, 0x6B, 0x22);
                    EmitLeb((uint)counter);
                    Emit(0x0D, 0x00, 0x0B);
                    break;
                }

            case 5:
                // if without else
                Expression(I32, depth - 1);
                Emit(0x04, 0x40);
                Statement(depth - 1);
                Emit(0x0B);
                break;
            case 6:
                {
                    // br_table over three nested blocks.
                    Emit(0x02, 0x40, 0x02, 0x40, 0x02, 0x40);
                    Expression(I32, depth - 1);
                    Emit(0x0E, 0x02, 0x00, 0x01, 0x02, 0x0B);
                    Statement(depth - 1);
                    Emit(0x0B);
                    Statement(depth - 1);
                    Emit(0x0B);
                    break;
                }

            case 7 when _random.Next(3) == 0:
                // conditional early return
                Expression(I32, depth - 1);
                Emit(0x04, 0x40);
                foreach (var result in _functions[_currentFunction].Results)
                {
                    Expression(result, depth - 1);
                }

                if (_currentFunction >= _helperCount)
                {
                    Emit(0x42, 0x05, 0x85); // run functions: distinguish an early return
                }

                Emit(0x0F, 0x0B);
                break;
            case 7:
                Expression(Pick(NumberTypes), depth - 1);
                Emit(0x1A); // drop
                break;
            default:
                {
                    // block with a conditional early exit
                    Emit(0x02, 0x40);
                    Statement(depth - 1);
                    Expression(I32, depth - 1);
                    Emit(0x0D, 0x00);
                    Statement(depth - 1);
                    Emit(0x0B);
                    break;
                }
        }
    }

    /// <summary>memory.fill / memory.copy over masked ranges, or memory.grow by 0 or 1 page (maximum 2).</summary>
    private void BulkStatement(int depth)
    {
        switch (_random.Next(3))
        {
            case 0:
                SmallAddress(depth - 1);
                Expression(I32, depth - 1);
                Length(depth - 1);
                Emit(0xFC, 0x0B, 0x00);
                break;
            case 1:
                SmallAddress(depth - 1);
                SmallAddress(depth - 1);
                Length(depth - 1);
                Emit(0xFC, 0x0A, 0x00, 0x00);
                break;
            default:
                Emit(0x41, (byte)_random.Next(2), 0x40, 0x00, 0x1A);
                break;
        }
    }

    /// <summary>table.set of a slot's own function (or null), table.fill with null, or table.grow by one null.</summary>
    private void TableStatement()
    {
        switch (_random.Next(6))
        {
            case 0:
            case 1:
            case 2:
                {
                    // Mostly re-store a slot's own function (keeps indirect calls working), sometimes null.
                    var slot = _random.Next(Math.Min(_helperCount, TableSize));
                    Emit(0x41, (byte)slot);
                    if (_random.Next(6) == 0)
                    {
                        Emit(0xD0, 0x70);
                    }
                    else
                    {
                        Emit(0xD2);
                        EmitLeb((uint)slot);
                    }

                    Emit(0x26, 0x00);
                    break;
                }

            case 3:
                // Fill and grow only with null: a slot holding another function than its own index could let a
                // function reach itself through call_indirect, and the programs must terminate.
                Emit(0x41, (byte)_random.Next(5), 0xD0, 0x70);
                Emit(0x41, (byte)_random.Next(4), 0xFC, 0x11, 0x00);
                break;
            default:
                Emit(0xD0, 0x70, 0x41, 0x01, 0xFC, 0x0F, 0x00, 0x1A);
                break;
        }
    }

    private void SmallAddress(int depth)
    {
        Expression(I32, depth);
        Emit(0x41, 0xF0, 0xFD, 0x03, 0x71); // & 0xFEF0: leaves room for a 255-byte range in the first page
    }

    private void Length(int depth)
    {
        Expression(I32, depth);
        Emit(0x41, 0xFF, 0x01, 0x71); // & 0xFF
    }

    private void Address(int depth)
    {
        Expression(I32, depth);
        Emit(0x41, 0xF0, 0xFF, 0x03, 0x71); // i32.const 0xFFF0; i32.and
    }

    private void Expression(byte type, int depth)
    {
        var choice = depth <= 0 ? _random.Next(3) : _random.Next(18);
        switch (choice)
        {
            case 0:
                Constant(type);
                return;
            case 1:
                {
                    var local = PickLocal(type);
                    Emit(0x20);
                    EmitLeb((uint)local);
                    return;
                }

            case 2:
                Emit(0x23, (byte)Array.IndexOf(NumberTypes, type));
                return;
            case 3:
            case 4:
            case 5:
                Binary(type, depth);
                return;
            case 6:
            case 7:
                Unary(type, depth);
                return;
            case 8:
                // block (result t) with statements
                Emit(0x02, type);
                Statement(depth - 1);
                Expression(type, depth - 1);
                Emit(0x0B);
                return;
            case 9:
                Expression(I32, depth - 1);
                Emit(0x04, type);
                Expression(type, depth - 1);
                Emit(0x05);
                Expression(type, depth - 1);
                Emit(0x0B);
                return;
            case 10:
                // block (result t): value; condition; br_if 0
                Emit(0x02, type);
                Expression(type, depth - 1);
                Expression(I32, depth - 1);
                Emit(0x0D, 0x00);
                Emit(0x0B);
                return;
            case 11:
                Expression(type, depth - 1);
                Expression(type, depth - 1);
                Expression(I32, depth - 1);
                if (_random.Next(2) == 0)
                {
                    Emit(0x1B);
                }
                else
                {
                    Emit(0x1C, 0x01, type);
                }

                return;
            case 12:
                {
                    var local = PickLocal(type);
                    Expression(type, depth - 1);
                    Emit(0x22);
                    EmitLeb((uint)local);
                    return;
                }

            case 13:
                Call(type, depth, indirect: false);
                return;
            case 14:
                Call(type, depth, indirect: true);
                return;
            case 15:
            case 16:
                StructuredValue(type, depth);
                return;
            default:
                Load(type, depth);
                return;
        }
    }

    private int TypeIndex(byte[] parameters, byte[] results)
    {
        var index = _types.FindIndex(t => t.Params.AsSpan().SequenceEqual(parameters) && t.Results.AsSpan().SequenceEqual(results));
        if (index < 0)
        {
            _types.Add((parameters, results));
            index = _types.Count - 1;
        }

        return index;
    }

    /// <summary>Control flow that carries values: multi-value blocks, blocks with parameters, branches with values
    /// out of nested blocks, br_table with values, and a loop whose label carries a parameter.</summary>
    private void StructuredValue(byte type, int depth)
    {
        switch (_random.Next(7))
        {
            case 5:
                // three nested (result t) blocks; br_if 2 carries the value out of all of them
                Emit(0x02, type, 0x02, type, 0x02, type);
                Expression(type, depth - 1);
                Expression(I32, depth - 1);
                Emit(0x0D, 0x02, 0x0B, 0x0B, 0x0B);
                return;
            case 6:
                // block (result t) { cond; if (result t) { t; br 1 } else { t } }
                Emit(0x02, type);
                Expression(I32, depth - 1);
                Emit(0x04, type);
                Expression(type, depth - 1);
                Emit(0x0C, 0x01, 0x05);
                Expression(type, depth - 1);
                Emit(0x0B, 0x0B);
                return;
            case 0:
                {
                    // block [] -> [type, other]; drop other
                    var other = Pick(NumberTypes);
                    Emit(0x02);
                    EmitLeb((uint)TypeIndex([], [type, other]));
                    Expression(type, depth - 1);
                    Expression(other, depth - 1);
                    Emit(0x0B, 0x1A);
                    return;
                }

            case 1:
                {
                    // param -> block [param] -> [type]: the block stores its parameter, then computes the value
                    var parameter = Pick(NumberTypes);
                    var local = PickLocal(parameter);
                    Expression(parameter, depth - 1);
                    Emit(0x02);
                    EmitLeb((uint)TypeIndex([parameter], [type]));
                    Emit(0x21);
                    EmitLeb((uint)local);
                    Expression(type, depth - 1);
                    Emit(0x0B);
                    return;
                }

            case 2:
                // block (result t) { block { t; cond; br_if 1; drop } t }
                Emit(0x02, type, 0x02, 0x40);
                Expression(type, depth - 1);
                Expression(I32, depth - 1);
                Emit(0x0D, 0x01, 0x1A, 0x0B);
                Expression(type, depth - 1);
                Emit(0x0B);
                return;
            case 3:
                // block (result t) { block (result t) { t; index; br_table 0 1 1 } }
                Emit(0x02, type, 0x02, type);
                Expression(type, depth - 1);
                Expression(I32, depth - 1);
                Emit(0x0E, 0x02, 0x00, 0x01, 0x01, 0x0B, 0x0B);
                return;
            default:
                {
                    // i32 -> loop [i32] -> [i32] that adds 3 per iteration, bounded by a private counter
                    var counter = NewLocal(I32);
                    Emit(0x41, (byte)(1 + _random.Next(4)), 0x21);
                    EmitLeb((uint)counter);
                    Expression(I32, depth - 1);
                    Emit(0x03);
                    EmitLeb((uint)TypeIndex([I32], [I32]));
                    Emit(0x41, 0x03, 0x6A, 0x20);
                    EmitLeb((uint)counter);
                    Emit(0x41, 0x01, 0x6B, 0x22);
                    EmitLeb((uint)counter);
                    Emit(0x0D, 0x00, 0x0B);
                    if (type != I32)
                    {
                        Emit(0x1A);
                        Expression(type, depth - 1);
                    }

                    return;
                }
        }
    }

    private void Call(byte type, int depth, bool indirect)
    {
        // Direct calls may target any lower function; indirect ones the helpers placed in the table.
        var limit = indirect ? Math.Min(Math.Min(_currentFunction, _helperCount), TableSize) : _currentFunction;
        var candidates = Enumerable.Range(0, limit).Where(i => _functions[i].Results[0] == type).ToList();
        if (candidates.Count == 0)
        {
            Constant(type);
            return;
        }

        var target = Pick(candidates.ToArray());
        foreach (var p in _functions[target].Params)
        {
            Expression(p, depth - 1);
        }

        if (!indirect)
        {
            Emit(0x10);
            EmitLeb((uint)target);
            DropExtraResults(target);
            return;
        }

        // Mostly the right slot; sometimes a computed one, which may trap (type mismatch / undefined element).
        if (_random.Next(40) == 0)
        {
            Expression(I32, depth - 1);
            Emit(0x41, 0x0F, 0x71);
        }
        else
        {
            Emit(0x41, (byte)target);
        }

        Emit(0x11);
        EmitLeb((uint)_functions[target].TypeIndex);
        Emit(0x00);
        DropExtraResults(target);
    }

    /// <summary>Keeps the first result of a multi-value call: the others are folded in when they have the same
    /// type (so they are observed) and dropped otherwise.</summary>
    private void DropExtraResults(int target)
    {
        var results = _functions[target].Results;
        for (var i = results.Length - 1; i >= 1; i--)
        {
            // The top of the stack has type results[i]; either combine it into results[i - 1] or drop it.
            if (results[i] == results[i - 1] && results[i] is I32 or I64)
            {
                Emit(results[i] == I32 ? (byte)0x73 : (byte)0x85); // xor
            }
            else
            {
                Emit(0x1A);
            }
        }
    }

    private void Load(byte type, int depth)
    {
        Address(depth - 1);
        (byte Op, byte Align) load = type switch
        {
            I32 => Pick(new (byte, byte)[] { (0x28, 2), (0x2C, 0), (0x2D, 0), (0x2E, 1), (0x2F, 1) }),
            I64 => Pick(new (byte, byte)[] { (0x29, 3), (0x30, 0), (0x31, 0), (0x32, 1), (0x33, 1), (0x34, 2), (0x35, 2) }),
            F32 => (0x2A, 2),
            _ => (0x2B, 3),
        };
        Emit(load.Op, (byte)_random.Next(load.Align + 1), (byte)_random.Next(9));
    }

    private void Constant(byte type)
    {
        switch (type)
        {
            case I32:
                Emit(0x41);
                EmitSleb(Pick(new long[] { 0, 1, -1, 7, 31, 32, 255, int.MinValue, int.MaxValue, _random.Next(), -_random.Next(1000) }));
                break;
            case I64:
                Emit(0x42);
                EmitSleb(Pick(new long[] { 0, 1, -1, 63, 64, long.MinValue, long.MaxValue, _random.NextInt64(), -_random.Next(1000), 1L << 40 }));
                break;
            case F32:
                Emit(0x43);
                _code.AddRange(BitConverter.GetBytes(Pick(new float[] { 0f, -0f, 1f, -1.5f, 0.5f, 3.4e38f, -3.4e38f, 1e-45f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 2147483648f, -2147483904f, 4294967296f, 9.2233720e18f, (float)(_random.NextDouble() * 1e6) - 5e5f })));
                break;
            default:
                Emit(0x44);
                _code.AddRange(BitConverter.GetBytes(Pick(new double[] { 0d, -0d, 1d, -1.5d, 0.5d, 2.5d, 1.7e308, 5e-324, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 2147483647.5, -2147483648.9, 4294967295.5, 9.223372036854776e18, -9.223372036854776e18, 1.8446744073709552e19, (_random.NextDouble() * 1e12) - 5e11 })));
                break;
        }
    }

    private void Binary(byte type, int depth)
    {
        switch (type)
        {
            case I32 when _random.Next(3) == 0:
                {
                    // comparison of any type
                    var operand = Pick(NumberTypes);
                    Expression(operand, depth - 1);
                    Expression(operand, depth - 1);
                    Emit(operand switch
                    {
                        I32 => (byte)(0x46 + _random.Next(10)),
                        I64 => (byte)(0x51 + _random.Next(10)),
                        F32 => (byte)(0x5B + _random.Next(6)),
                        _ => (byte)(0x61 + _random.Next(6)),
                    });
                    return;
                }

            case I32:
                {
                    var op = (byte)(0x6A + _random.Next(15));
                    Expression(I32, depth - 1);
                    Expression(I32, depth - 1);
                    if (op is >= 0x6D and <= 0x70 && _random.Next(25) != 0)
                    {
                        Emit(0x41, 0x01, 0x72); // divisor | 1: mostly no division by zero
                    }

                    Emit(op);
                    return;
                }

            case I64:
                {
                    var op = (byte)(0x7C + _random.Next(15));
                    Expression(I64, depth - 1);
                    Expression(I64, depth - 1);
                    if (op is >= 0x7F and <= 0x82 && _random.Next(25) != 0)
                    {
                        Emit(0x42, 0x01, 0x84);
                    }

                    Emit(op);
                    return;
                }
            case F32:
                {
                    Expression(F32, depth - 1);
                    Expression(F32, depth - 1);
                    var op = (byte)(0x92 + _random.Next(7));
                    if (op == 0x98)
                    {
                        SignWithoutNaN(F32);
                    }

                    Emit(op);
                    return;
                }

            default:
                {
                    Expression(F64, depth - 1);
                    Expression(F64, depth - 1);
                    var op = (byte)(0xA0 + _random.Next(7));
                    if (op == 0xA6)
                    {
                        SignWithoutNaN(F64);
                    }

                    Emit(op);
                    return;
                }
        }
    }

    /// <summary>
    /// Before a copysign: replaces a NaN sign operand (on top of the stack) by 1.0. The sign of a NaN produced by
    /// arithmetic or promote/demote is not specified (this engine makes it positive, wasm-interp keeps the CPU's),
    /// and copysign is the one operation that would carry it into a non-NaN result (seed 1777 did, through
    /// f64.promote_f32). Draws no random numbers, so every other program stays as it was.
    /// </summary>
    private void SignWithoutNaN(byte floatType)
    {
        var scratch = NewLocal(floatType);
        Emit(0x21);
        EmitLeb((uint)scratch);
        Emit(0x20);
        EmitLeb((uint)scratch);
        if (floatType == F32)
        {
            Emit(0x43);
            _code.AddRange(BitConverter.GetBytes(1f));
        }
        else
        {
            Emit(0x44);
            _code.AddRange(BitConverter.GetBytes(1d));
        }

        Emit(0x20);
        EmitLeb((uint)scratch);
        Emit(0x20);
        EmitLeb((uint)scratch);
        Emit(floatType == F32 ? (byte)0x5B : (byte)0x61); // eq: false only for NaN
        Emit(0x1B); // select: the operand unless it is NaN
    }

    private void Unary(byte type, int depth)
    {
        switch (type)
        {
            case I32:
                switch (_random.Next(8))
                {
                    case 0: Expression(I32, depth - 1); Emit(Pick(new byte[] { 0x45, 0x67, 0x68, 0x69, 0xC0, 0xC1 })); return;
                    case 1: Expression(I64, depth - 1); Emit(Pick(new byte[] { 0x50, 0xA7 })); return;
                    case 2: Expression(F32, depth - 1); TruncF32ToI32(); return;
                    case 3: Expression(F64, depth - 1); TruncF64ToI32(); return;
                    case 4: Expression(F32, depth - 1); Emit(0xFC, (byte)_random.Next(2)); return;
                    case 5: Expression(F64, depth - 1); Emit(0xFC, (byte)(2 + _random.Next(2))); return;
                    case 6: CanonicalBits(F32, depth); return;
                    case 7 when _random.Next(2) == 0:
                        Emit(0xFC, 0x10, 0x00); // table.size
                        return;
                    case 7 when _random.Next(2) == 0:
                        Expression(I32, depth - 1);
                        Emit(0x41, 0x07, 0x71, 0x25, 0x00, 0xD1); // ref.is_null (table.get (x & 7))
                        return;
                    default: Emit(0x3F, 0x00); return; // memory.size
                }

            case I64:
                switch (_random.Next(7))
                {
                    case 0: Expression(I64, depth - 1); Emit(Pick(new byte[] { 0x50, 0x79, 0x7A, 0x7B, 0xC2, 0xC3, 0xC4 })); if (_code[^1] == 0x50) { Emit(0xAD); } return;
                    case 1: Expression(I32, depth - 1); Emit(Pick(new byte[] { 0xAC, 0xAD })); return;
                    case 2: Expression(F32, depth - 1); Truncate(0xAE, 0x04); return;
                    case 3: Expression(F64, depth - 1); Truncate(0xB0, 0x06); return;
                    case 4: Expression(F32, depth - 1); Emit(0xFC, (byte)(4 + _random.Next(2))); return;
                    case 5: Expression(F64, depth - 1); Emit(0xFC, (byte)(6 + _random.Next(2))); return;
                    default: CanonicalBits(F64, depth); return;
                }

            case F32:
                switch (_random.Next(5))
                {
                    case 0: Expression(F32, depth - 1); Emit((byte)(0x8B + _random.Next(7))); return;
                    case 1: Expression(I32, depth - 1); Emit(Pick(new byte[] { 0xB2, 0xB3, 0xBE })); return;
                    case 2: Expression(I64, depth - 1); Emit(Pick(new byte[] { 0xB4, 0xB5 })); return;
                    default: Expression(F64, depth - 1); Emit(0xB6); return;
                }

            default:
                switch (_random.Next(5))
                {
                    case 0: Expression(F64, depth - 1); Emit((byte)(0x99 + _random.Next(7))); return;
                    case 1: Expression(I32, depth - 1); Emit(Pick(new byte[] { 0xB7, 0xB8 })); return;
                    case 2: Expression(I64, depth - 1); Emit(Pick(new byte[] { 0xB9, 0xBA, 0xBF })); return;
                    default: Expression(F32, depth - 1); Emit(0xBB); return;
                }
        }
    }

    private void TruncF32ToI32() => Truncate(0xA8, 0x00);

    private void TruncF64ToI32() => Truncate(0xAA, 0x02);

    /// <summary>A float-to-int truncation: rarely the trapping form, mostly the saturating one (signed or unsigned).</summary>
    private void Truncate(byte trappingSigned, byte saturatingSigned)
    {
        var unsigned = (byte)_random.Next(2);
        if (_random.Next(15) == 0)
        {
            Emit((byte)(trappingSigned + unsigned));
        }
        else
        {
            Emit(0xFC, (byte)(saturatingSigned + unsigned));
        }
    }

    /// <summary>Reinterprets a float as integer bits, mapping every NaN (any sign or payload) to one pattern.</summary>
    private void CanonicalBits(byte floatType, int depth)
    {
        var scratch = NewLocal(floatType);
        Expression(floatType, depth - 1);
        Emit(0x21);
        EmitLeb((uint)scratch);
        if (floatType == F32)
        {
            Emit(0x41);
            EmitSleb(0x7FC0_0000);
            Emit(0x20);
            EmitLeb((uint)scratch);
            Emit(0xBC);
        }
        else
        {
            Emit(0x42);
            EmitSleb(0x7FF8_0000_0000_0000);
            Emit(0x20);
            EmitLeb((uint)scratch);
            Emit(0xBD);
        }

        Emit(0x20);
        EmitLeb((uint)scratch);
        Emit(0x20);
        EmitLeb((uint)scratch);
        Emit(floatType == F32 ? (byte)0x5C : (byte)0x62); // ne: true only for NaN
        Emit(0x1B);
    }

    private void ToI64(byte type)
    {
        switch (type)
        {
            case I32:
                Emit(0xAD);
                break;
            case F32:
                Emit(0xFC, 0x04); // i64.trunc_sat_f32_s: NaN -> 0, deterministic
                break;
            case F64:
                Emit(0xFC, 0x06);
                break;
        }
    }

    private int PickLocal(byte? type)
    {
        var candidates = _freeLocals.Where(l => type is null || _localTypes[l] == type).ToArray();
        return Pick(candidates);
    }

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private void Emit(params byte[] bytes) => _code.AddRange(bytes);

    private void EmitLeb(uint value) => _code.AddRange(Leb(value));

    private void EmitSleb(long value)
    {
        while (true)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if ((value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0))
            {
                _code.Add(b);
                return;
            }

            _code.Add((byte)(b | 0x80));
        }
    }

    private static byte[] Leb(uint value) => WasmBinaryBuilder.Leb(value);

    private byte[] Assemble(int helperFunctions)
    {
        var builder = new WasmBinaryBuilder().Types([.. _types]);
        builder.Functions([.. _functions.Select(f => (uint)f.TypeIndex)]);
        builder.Section(4, WasmBinaryBuilder.Vec([0x70, 0x00, (byte)TableSize]));
        builder.Section(5, WasmBinaryBuilder.Vec([0x01, 0x01, 0x02]));
        var globals = NumberTypes.Select(t => (byte[])[t, 0x01, .. GlobalInit(t)]).ToArray();
        builder.Section(6, WasmBinaryBuilder.Vec(globals));
        builder.Section(7, WasmBinaryBuilder.Vec([.. Exports.Select((name, i) => (byte[])[.. WasmBinaryBuilder.Name(name), 0x00, .. Leb((uint)(helperFunctions + i))])]));
        var slots = Enumerable.Range(0, Math.Min(helperFunctions, TableSize)).Select(i => Leb((uint)i)).ToArray();
        builder.Section(9, WasmBinaryBuilder.Vec([0x00, 0x41, 0x00, 0x0B, .. WasmBinaryBuilder.Vec(slots)]));
        builder.Section(10, WasmBinaryBuilder.Vec([.. _bodies.Select(b => (byte[])[.. Leb((uint)b.Length), .. b])]));
        var data = new byte[256];
        _random.NextBytes(data);
        builder.Section(11, WasmBinaryBuilder.Vec([0x00, 0x41, 0x00, 0x0B, .. Leb((uint)data.Length), .. data]));
        return builder.Build();
    }

    private byte[] GlobalInit(byte type) => type switch
    {
        I32 => [0x41, 0x2A, 0x0B],
        I64 => [0x42, 0x7F, 0x0B],
        F32 => [0x43, .. BitConverter.GetBytes(1.25f), 0x0B],
        _ => [0x44, .. BitConverter.GetBytes(-2.5d), 0x0B],
    };
}
