using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>Kind of a block type immediate.</summary>
internal enum BlockTypeKind : byte
{
    /// <summary><c>[] -&gt; []</c>.</summary>
    Empty,

    /// <summary><c>[] -&gt; [t]</c>.</summary>
    Value,

    /// <summary>A type index <c>[t1*] -&gt; [t2*]</c>.</summary>
    TypeIndex,
}

/// <summary>The block type of <c>block</c>, <c>loop</c> and <c>if</c>.</summary>
internal readonly record struct BlockType(BlockTypeKind Kind, WasmValueType ValueType, uint TypeIndex);

/// <summary>
/// One decoded operator with its immediates. Which fields are meaningful depends on <see cref="Opcode"/>:
/// <list type="bullet">
/// <item><see cref="Index"/>: label, function, local, global, table, type, element or data index; memarg alignment exponent;
/// the default label of <c>br_table</c>; the number of types of a typed <c>select</c>.</item>
/// <item><see cref="Index2"/>: table of <c>call_indirect</c>; table of <c>table.init</c>; source table of <c>table.copy</c>.</item>
/// <item><see cref="Immediate"/>: constant value (floats as bits), or memarg offset.</item>
/// <item><see cref="Block"/>: block type; <see cref="RefType"/>: <c>ref.null</c> type or the type of a typed <c>select</c>.</item>
/// <item><see cref="TargetsStart"/>/<see cref="TargetCount"/>: position (in the body span) and count of the <c>br_table</c>
/// label vector, read with <see cref="OperatorReader.BrTableTargets"/>.</item>
/// </list>
/// </summary>
internal struct Operator
{
    /// <summary>The operator.</summary>
    public Opcode Opcode;

    /// <summary>Offset of the opcode within the body span.</summary>
    public int Offset;

    /// <summary>First index immediate.</summary>
    public uint Index;

    /// <summary>Second index immediate.</summary>
    public uint Index2;

    /// <summary>Constant value bits or memarg offset.</summary>
    public ulong Immediate;

    /// <summary>Block type.</summary>
    public BlockType Block;

    /// <summary>Reference or select type.</summary>
    public WasmValueType RefType;

    /// <summary>Start of the <c>br_table</c> targets.</summary>
    public int TargetsStart;

    /// <summary>Number of <c>br_table</c> targets, excluding the default.</summary>
    public int TargetCount;
}

/// <summary>Iterates the labels of a <c>br_table</c>.</summary>
internal ref struct BrTableTargetReader
{
    private WasmBinaryReader _reader;
    private int _left;

    public BrTableTargetReader(ReadOnlySpan<byte> code, int start, int count)
    {
        _reader = new WasmBinaryReader(code) { Position = start };
        _left = count;
    }

    /// <summary>Targets not read yet.</summary>
    public readonly int Remaining => _left;

    /// <summary>Reads the next target label.</summary>
    public uint Next()
    {
        if (_left <= 0)
        {
            throw new InvalidOperationException("No more br_table targets.");
        }

        _left--;
        return _reader.ReadVarU32();
    }
}

/// <summary>
/// Reads operators and their immediates from a function body or constant expression, without allocating. Encoding
/// errors (unknown opcodes, bad LEB128, non-zero reserved bytes, truncation) throw <see cref="WasmMalformedException"/>;
/// SIMD (<c>0xFD</c>) throws <see cref="WasmUnsupportedFeatureException"/>. Type checking is the validator's job.
/// </summary>
internal ref struct OperatorReader
{
    private static readonly bool[] KnownSingleByte = BuildKnown();

    private WasmBinaryReader _reader;

    /// <summary>Creates a reader; <paramref name="baseOffset"/> is the span's offset in the module (for messages).</summary>
    public OperatorReader(ReadOnlySpan<byte> code, int baseOffset = 0)
    {
        _reader = new WasmBinaryReader(code, baseOffset, inSection: true);
    }

    /// <summary>Whether every byte has been read.</summary>
    public readonly bool AtEnd => _reader.AtEnd;

    /// <summary>Current position in the span.</summary>
    public readonly int Position => _reader.Position;

    /// <summary>Current position in the module binary.</summary>
    public readonly int AbsolutePosition => _reader.AbsolutePosition;

    /// <summary>The labels of a <c>br_table</c> operator read by this reader.</summary>
    public readonly BrTableTargetReader BrTableTargets(in Operator op) => new(_reader.Span, op.TargetsStart, op.TargetCount);

    /// <summary>Creates a malformed exception at the current position.</summary>
    public readonly WasmMalformedException Malformed(string message) => _reader.Malformed(message);

    /// <summary>Reads the next operator.</summary>
    [SkipLocalsInit]
    public void Read(out Operator op)
    {
        op = default;
        op.Offset = _reader.Position;
        if (_reader.AtEnd)
        {
            throw _reader.Malformed("unexpected end of section or function");
        }

        var b = _reader.ReadByte();
        switch (b)
        {
            case 0xFC:
                {
                    var sub = _reader.ReadVarU32();
                    if (sub > 0x11)
                    {
                        throw _reader.Malformed($"illegal opcode 0xFC {sub}");
                    }

                    op.Opcode = (Opcode)(0xFC00 | sub);
                    ReadPrefixedImmediates(ref op);
                    return;
                }

            case 0xFD:
                throw WasmUnsupportedFeatureException.Simd(_reader.AbsolutePosition - 1);
        }

        if (!KnownSingleByte[b])
        {
            throw _reader.Malformed($"illegal opcode 0x{b:X2}");
        }

        op.Opcode = (Opcode)b;
        switch (op.Opcode)
        {
            case Opcode.Block:
            case Opcode.Loop:
            case Opcode.If:
                op.Block = ReadBlockType();
                break;
            case Opcode.Br:
            case Opcode.BrIf:
            case Opcode.Call:
            case Opcode.LocalGet:
            case Opcode.LocalSet:
            case Opcode.LocalTee:
            case Opcode.GlobalGet:
            case Opcode.GlobalSet:
            case Opcode.TableGet:
            case Opcode.TableSet:
            case Opcode.RefFunc:
                op.Index = _reader.ReadVarU32();
                break;
            case Opcode.BrTable:
                {
                    var count = _reader.ReadCount(1, WasmModuleLimits.MaxBrTableTargets, "br_table target");
                    op.TargetCount = count;
                    op.TargetsStart = _reader.Position;
                    for (var i = 0; i < count; i++)
                    {
                        _reader.ReadVarU32();
                    }

                    op.Index = _reader.ReadVarU32();
                    break;
                }

            case Opcode.CallIndirect:
                op.Index = _reader.ReadVarU32();
                op.Index2 = _reader.ReadVarU32();
                break;
            case Opcode.SelectTyped:
                {
                    var count = _reader.ReadCount(1, 1_000, "select type");
                    op.Index = (uint)count;
                    for (var i = 0; i < count; i++)
                    {
                        var t = _reader.ReadValueType();
                        if (i == 0)
                        {
                            op.RefType = t;
                        }
                    }

                    break;
                }

            case >= Opcode.I32Load and <= Opcode.I64Store32:
                op.Index = _reader.ReadVarU32();
                op.Immediate = _reader.ReadVarU32();
                break;
            case Opcode.MemorySize:
            case Opcode.MemoryGrow:
                ReadZeroByte();
                break;
            case Opcode.I32Const:
                op.Immediate = (ulong)(long)_reader.ReadVarI32();
                break;
            case Opcode.I64Const:
                op.Immediate = (ulong)_reader.ReadVarI64();
                break;
            case Opcode.F32Const:
                op.Immediate = _reader.ReadFixedU32();
                break;
            case Opcode.F64Const:
                op.Immediate = _reader.ReadFixedU64();
                break;
            case Opcode.RefNull:
                op.RefType = _reader.ReadRefType();
                break;
        }
    }

    private void ReadPrefixedImmediates(ref Operator op)
    {
        switch (op.Opcode)
        {
            case Opcode.MemoryInit:
                op.Index = _reader.ReadVarU32();
                ReadZeroByte();
                break;
            case Opcode.DataDrop:
            case Opcode.ElemDrop:
            case Opcode.TableGrow:
            case Opcode.TableSize:
            case Opcode.TableFill:
                op.Index = _reader.ReadVarU32();
                break;
            case Opcode.MemoryCopy:
                ReadZeroByte();
                ReadZeroByte();
                break;
            case Opcode.MemoryFill:
                ReadZeroByte();
                break;
            case Opcode.TableInit:
                op.Index = _reader.ReadVarU32();
                op.Index2 = _reader.ReadVarU32();
                break;
            case Opcode.TableCopy:
                op.Index = _reader.ReadVarU32();
                op.Index2 = _reader.ReadVarU32();
                break;
        }
    }

    private void ReadZeroByte()
    {
        if (_reader.ReadByte() != 0)
        {
            throw _reader.Malformed("zero byte expected");
        }
    }

    private BlockType ReadBlockType()
    {
        var b = _reader.PeekByte();
        if (b == 0x40)
        {
            _reader.ReadByte();
            return new BlockType(BlockTypeKind.Empty, default, 0);
        }

        if (b is 0x7F or 0x7E or 0x7D or 0x7C or 0x7B or 0x70 or 0x6F)
        {
            return new BlockType(BlockTypeKind.Value, _reader.ReadValueType(), 0);
        }

        var index = _reader.ReadVarS33();
        if (index < 0)
        {
            throw _reader.Malformed("malformed block type");
        }

        if (index > uint.MaxValue)
        {
            throw _reader.Malformed("integer too large");
        }

        return new BlockType(BlockTypeKind.TypeIndex, default, (uint)index);
    }

    private static bool[] BuildKnown()
    {
        var known = new bool[256];
        foreach (var value in Enum.GetValues<Opcode>())
        {
            if ((ushort)value < 0x100)
            {
                known[(ushort)value] = true;
            }
        }

        return known;
    }
}
