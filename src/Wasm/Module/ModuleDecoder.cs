namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Decodes the WebAssembly 2.0 binary format (SIMD excluded) into a <see cref="WasmModule"/>. Only structure is
/// checked here (encodings, section order and sizes, counts, UTF-8); typing is <see cref="ModuleValidator"/>'s job.
/// Function bodies are not decoded operator by operator: their bytes are sliced from the input and the validator
/// (and the translator) read them with <see cref="OperatorReader"/>.
/// </summary>
/// <remarks>
/// Hostile input: every count is checked against <see cref="WasmModuleLimits"/> and against the bytes left in its
/// section (each element needs at least one byte) before anything is allocated, and every read is bounds-checked.
/// </remarks>
internal static class ModuleDecoder
{
    private const uint Magic = 0x6D736100; // "\0asm"
    private const uint Version = 1;

    private enum SectionId : byte
    {
        Custom = 0,
        Type = 1,
        Import = 2,
        Function = 3,
        Table = 4,
        Memory = 5,
        Global = 6,
        Export = 7,
        Start = 8,
        Element = 9,
        Code = 10,
        Data = 11,
        DataCount = 12,
    }

    /// <summary>Decodes a module binary.</summary>
    /// <param name="bytes">The module; slices of it are kept by the returned model.</param>
    /// <returns>The decoded, not yet validated module.</returns>
    /// <exception cref="WasmMalformedException">The binary is not well-formed.</exception>
    /// <exception cref="WasmUnsupportedFeatureException">The module uses SIMD.</exception>
    public static WasmModule Decode(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length > WasmModuleLimits.MaxModuleBytes)
        {
            throw new WasmMalformedException($"module of {bytes.Length} bytes exceeds the limit of {WasmModuleLimits.MaxModuleBytes}");
        }

        var state = new DecoderState(bytes);
        state.Run();
        return state.Module;
    }

    private static int Order(SectionId id) => id switch
    {
        SectionId.Type => 1,
        SectionId.Import => 2,
        SectionId.Function => 3,
        SectionId.Table => 4,
        SectionId.Memory => 5,
        SectionId.Global => 6,
        SectionId.Export => 7,
        SectionId.Start => 8,
        SectionId.Element => 9,
        SectionId.DataCount => 10,
        SectionId.Code => 11,
        SectionId.Data => 12,
        _ => 0,
    };

    private sealed class DecoderState
    {
        private readonly ReadOnlyMemory<byte> _bytes;
        private uint[] _definedFunctionTypes = [];

        public DecoderState(ReadOnlyMemory<byte> bytes)
        {
            _bytes = bytes;
            Module = new WasmModule { Binary = bytes };
        }

        public WasmModule Module { get; }

        public void Run()
        {
            var reader = new WasmBinaryReader(_bytes.Span);
            if (reader.Remaining < 4)
            {
                reader.ThrowMalformed("unexpected end");
            }

            if (reader.ReadFixedU32() != Magic)
            {
                reader.ThrowMalformed("magic header not detected");
            }

            if (reader.Remaining < 4)
            {
                reader.ThrowMalformed("unexpected end");
            }

            if (reader.ReadFixedU32() != Version)
            {
                reader.ThrowMalformed("unknown binary version");
            }

            var lastOrder = 0;
            while (!reader.AtEnd)
            {
                var idByte = reader.ReadByte();
                if (idByte > (byte)SectionId.DataCount)
                {
                    reader.ThrowMalformed("malformed section id");
                }

                var id = (SectionId)idByte;
                var size = reader.ReadVarU32();
                if (size > (uint)reader.Remaining)
                {
                    reader.ThrowMalformed("length out of bounds");
                }

                var start = reader.Position;
                var section = new WasmBinaryReader(_bytes.Span.Slice(start, (int)size), start, inSection: true);
                if (id != SectionId.Custom)
                {
                    var order = Order(id);
                    if (order <= lastOrder)
                    {
                        reader.ThrowMalformed("unexpected content after last section");
                    }

                    lastOrder = order;
                }

                DecodeSection(id, ref section, start);
                if (!section.AtEnd)
                {
                    section.ThrowMalformed("section size mismatch");
                }

                reader.Position = start + (int)size;
            }

            Finish();
        }

        private void DecodeSection(SectionId id, ref WasmBinaryReader r, int start)
        {
            switch (id)
            {
                case SectionId.Custom:
                    r.ReadName();
                    r.Skip(r.Remaining);
                    break;
                case SectionId.Type:
                    DecodeTypes(ref r);
                    break;
                case SectionId.Import:
                    DecodeImports(ref r);
                    break;
                case SectionId.Function:
                    DecodeFunctions(ref r);
                    break;
                case SectionId.Table:
                    DecodeTables(ref r);
                    break;
                case SectionId.Memory:
                    DecodeMemories(ref r);
                    break;
                case SectionId.Global:
                    DecodeGlobals(ref r, start);
                    break;
                case SectionId.Export:
                    DecodeExports(ref r);
                    break;
                case SectionId.Start:
                    Module.Start = r.ReadVarU32();
                    break;
                case SectionId.Element:
                    DecodeElements(ref r, start);
                    break;
                case SectionId.DataCount:
                    Module.DataCount = r.ReadVarU32();
                    break;
                case SectionId.Code:
                    DecodeCode(ref r, start);
                    break;
                case SectionId.Data:
                    DecodeData(ref r, start);
                    break;
            }
        }

        private void Finish()
        {
            if (_definedFunctionTypes.Length != Module.Functions.Length)
            {
                throw new WasmMalformedException("function and code section have inconsistent lengths");
            }

            if (Module.DataCount is { } dataCount && dataCount != (uint)Module.Datas.Length)
            {
                throw new WasmMalformedException("data count and data section have inconsistent lengths");
            }

            var functionTypes = new List<uint>(Module.ImportedFunctionCount + _definedFunctionTypes.Length);
            foreach (var import in Module.Imports)
            {
                if (import.Kind == ExternalKind.Function)
                {
                    functionTypes.Add(import.FunctionTypeIndex);
                }
            }

            functionTypes.AddRange(_definedFunctionTypes);
            Module.FunctionTypeIndices = [.. functionTypes];
        }

        private void DecodeTypes(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxTypes, "type");
            var types = new FuncType[count];
            for (var i = 0; i < count; i++)
            {
                var form = r.ReadByte();
                if (form != 0x60)
                {
                    r.ThrowMalformed($"malformed function type 0x{form:X2} (expected 0x60)");
                }

                var parameters = ReadValueTypes(ref r, WasmModuleLimits.MaxFunctionParams, "parameter");
                var results = ReadValueTypes(ref r, WasmModuleLimits.MaxFunctionResults, "result");
                types[i] = new FuncType(parameters, results);
            }

            Module.Types = types;
        }

        private static WasmValueType[] ReadValueTypes(ref WasmBinaryReader r, int limit, string what)
        {
            var count = r.ReadCount(1, limit, what);
            if (count == 0)
            {
                return [];
            }

            var result = new WasmValueType[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = r.ReadValueType();
            }

            return result;
        }

        private static Limits ReadLimits(ref WasmBinaryReader r)
        {
            // The flags are a single byte, not a LEB128 (a continuation bit makes it an over-long integer).
            var flags = r.ReadByte();
            switch (flags)
            {
                case >= 0x80:
                    throw r.Malformed("integer representation too long (malformed limits flags)");
                case 0:
                    return new Limits(r.ReadVarU32(), null);
                case 1:
                    {
                        var min = r.ReadVarU32();
                        var max = r.ReadVarU32();
                        return new Limits(min, max);
                    }

                default:
                    throw r.Malformed("integer too large (malformed limits flags)");
            }
        }

        private static TableType ReadTableType(ref WasmBinaryReader r)
        {
            var elementType = r.ReadRefType();
            return new TableType(elementType, ReadLimits(ref r));
        }

        private static GlobalType ReadGlobalType(ref WasmBinaryReader r)
        {
            var type = r.ReadValueType();
            var mutability = r.ReadByte();
            if (mutability > 1)
            {
                r.ThrowMalformed("malformed mutability");
            }

            return new GlobalType(type, mutability == 1);
        }

        private void DecodeImports(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxImports, "import");
            var imports = new WasmImport[count];
            var tables = new List<TableType>();
            var memories = new List<MemoryType>();
            var globals = new List<GlobalType>();
            var functions = 0;
            for (var i = 0; i < count; i++)
            {
                var module = r.ReadName();
                var name = r.ReadName();
                var kind = r.ReadByte();
                imports[i] = kind switch
                {
                    0 => new WasmImport { Module = module, Name = name, Kind = ExternalKind.Function, FunctionTypeIndex = r.ReadVarU32(), IndexInKind = functions++ },
                    1 => new WasmImport { Module = module, Name = name, Kind = ExternalKind.Table, Table = Add(tables, ReadTableType(ref r)), IndexInKind = tables.Count - 1 },
                    2 => new WasmImport { Module = module, Name = name, Kind = ExternalKind.Memory, Memory = Add(memories, new MemoryType(ReadLimits(ref r))), IndexInKind = memories.Count - 1 },
                    3 => new WasmImport { Module = module, Name = name, Kind = ExternalKind.Global, Global = Add(globals, ReadGlobalType(ref r)), IndexInKind = globals.Count - 1 },
                    _ => throw r.Malformed("malformed import kind"),
                };
            }

            if (functions > WasmModuleLimits.MaxFunctions)
            {
                r.ThrowMalformed($"too many functions (limit {WasmModuleLimits.MaxFunctions})");
            }

            Module.Imports = imports;
            Module.ImportedFunctionCount = functions;
            Module.Tables = [.. tables];
            Module.ImportedTableCount = tables.Count;
            Module.Memories = [.. memories];
            Module.ImportedMemoryCount = memories.Count;
            Module.GlobalTypes = [.. globals];
            Module.ImportedGlobalCount = globals.Count;
        }

        private static T Add<T>(List<T> list, T item)
        {
            list.Add(item);
            return item;
        }

        private void DecodeFunctions(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, Math.Max(0, WasmModuleLimits.MaxFunctions - Module.ImportedFunctionCount), "function");
            var types = new uint[count];
            for (var i = 0; i < count; i++)
            {
                types[i] = r.ReadVarU32();
            }

            _definedFunctionTypes = types;
        }

        private void DecodeTables(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, Math.Max(0, WasmModuleLimits.MaxTables - Module.ImportedTableCount), "table");
            var tables = new TableType[Module.ImportedTableCount + count];
            Module.Tables.CopyTo(tables, 0);
            for (var i = 0; i < count; i++)
            {
                tables[Module.ImportedTableCount + i] = ReadTableType(ref r);
            }

            Module.Tables = tables;
        }

        private void DecodeMemories(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, Math.Max(0, WasmModuleLimits.MaxMemories - Module.ImportedMemoryCount), "memory");
            var memories = new MemoryType[Module.ImportedMemoryCount + count];
            Module.Memories.CopyTo(memories, 0);
            for (var i = 0; i < count; i++)
            {
                memories[Module.ImportedMemoryCount + i] = new MemoryType(ReadLimits(ref r));
            }

            Module.Memories = memories;
        }

        private void DecodeGlobals(ref WasmBinaryReader r, int sectionStart)
        {
            var count = r.ReadCount(1, Math.Max(0, WasmModuleLimits.MaxGlobals - Module.ImportedGlobalCount), "global");
            var types = new GlobalType[Module.ImportedGlobalCount + count];
            Module.GlobalTypes.CopyTo(types, 0);
            var globals = new WasmGlobal[count];
            for (var i = 0; i < count; i++)
            {
                var type = ReadGlobalType(ref r);
                var init = ReadConstExpr(ref r, sectionStart);
                types[Module.ImportedGlobalCount + i] = type;
                globals[i] = new WasmGlobal(type, init);
            }

            Module.GlobalTypes = types;
            Module.Globals = globals;
        }

        private void DecodeExports(ref WasmBinaryReader r)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxExports, "export");
            var exports = new WasmExport[count];
            for (var i = 0; i < count; i++)
            {
                var name = r.ReadName();
                var kind = r.ReadByte();
                if (kind > 3)
                {
                    r.ThrowMalformed("malformed export kind");
                }

                exports[i] = new WasmExport(name, (ExternalKind)kind, r.ReadVarU32());
            }

            Module.Exports = exports;
        }

        private void DecodeElements(ref WasmBinaryReader r, int sectionStart)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxElementSegments, "element segment");
            var segments = new WasmElementSegment[count];
            var totalItems = 0;
            for (var i = 0; i < count; i++)
            {
                var flags = r.ReadVarU32();
                if (flags > 7)
                {
                    r.ThrowMalformed("malformed elements segment kind");
                }

                var mode = (flags & 1) == 0 ? SegmentMode.Active : (flags & 2) == 0 ? SegmentMode.Passive : SegmentMode.Declarative;
                var usesExpressions = (flags & 4) != 0;
                uint table = 0;
                ConstExpr offset = default;
                if (mode == SegmentMode.Active)
                {
                    if ((flags & 2) != 0)
                    {
                        table = r.ReadVarU32();
                    }

                    offset = ReadConstExpr(ref r, sectionStart);
                }

                var elementType = WasmValueType.FuncRef;
                if (mode != SegmentMode.Active || (flags & 2) != 0)
                {
                    if (usesExpressions)
                    {
                        elementType = r.ReadRefType();
                    }
                    else if (r.ReadByte() != 0)
                    {
                        r.ThrowMalformed("malformed element kind");
                    }
                }

                var itemCount = r.ReadCount(1, WasmModuleLimits.MaxElementItems - totalItems, "element");
                totalItems += itemCount;
                var items = itemCount == 0 ? [] : new ConstExpr[itemCount];
                for (var j = 0; j < itemCount; j++)
                {
                    items[j] = usesExpressions ? ReadConstExpr(ref r, sectionStart) : ConstExpr.FunctionReference(r.ReadVarU32());
                }

                segments[i] = new WasmElementSegment { Mode = mode, TableIndex = table, Offset = offset, ElementType = elementType, Items = items };
            }

            Module.Elements = segments;
        }

        private void DecodeCode(ref WasmBinaryReader r, int sectionStart)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxFunctions, "function body");
            if (count != _definedFunctionTypes.Length)
            {
                r.ThrowMalformed("function and code section have inconsistent lengths");
            }

            var bodies = new WasmFunctionBody[count];
            long moduleLocals = 0;
            Span<(uint Count, WasmValueType Type)> smallGroups = stackalloc (uint, WasmValueType)[16];
            for (var i = 0; i < count; i++)
            {
                var size = r.ReadVarU32();
                if (size > (uint)r.Remaining)
                {
                    r.ThrowMalformed("length out of bounds");
                }

                if (size > WasmModuleLimits.MaxFunctionBodyBytes)
                {
                    r.ThrowMalformed($"function body of {size} bytes exceeds the limit of {WasmModuleLimits.MaxFunctionBodyBytes}");
                }

                var bodyStart = r.Position;
                var body = new WasmBinaryReader(r.Span.Slice(bodyStart, (int)size), sectionStart + bodyStart, inSection: true);
                r.Skip((int)size);

                var groupCount = body.ReadCount(1, WasmModuleLimits.MaxFunctionLocals, "local declaration");
                var groups = groupCount <= smallGroups.Length ? smallGroups[..groupCount] : new (uint, WasmValueType)[groupCount];
                long total = 0;
                for (var g = 0; g < groupCount; g++)
                {
                    var n = body.ReadVarU32();
                    total += n;
                    if (total > WasmModuleLimits.MaxFunctionLocals)
                    {
                        body.ThrowMalformed("too many locals");
                    }

                    if (moduleLocals + total > WasmModuleLimits.MaxModuleLocals)
                    {
                        body.ThrowMalformed($"too many locals in the module (limit {WasmModuleLimits.MaxModuleLocals})");
                    }

                    groups[g] = (n, body.ReadValueType());
                }

                moduleLocals += total;
                var locals = total == 0 ? [] : new WasmValueType[total];
                var k = 0;
                foreach (var (n, type) in groups)
                {
                    locals.AsSpan(k, (int)n).Fill(type);
                    k += (int)n;
                }

                if (body.AtEnd)
                {
                    body.ThrowMalformed("unexpected end of section or function");
                }

                var codeStart = sectionStart + bodyStart + body.Position;
                bodies[i] = new WasmFunctionBody
                {
                    TypeIndex = _definedFunctionTypes[i],
                    Locals = locals,
                    Code = _bytes.Slice(codeStart, body.Remaining),
                    CodeOffset = codeStart,
                };
            }

            Module.Functions = bodies;
        }

        private void DecodeData(ref WasmBinaryReader r, int sectionStart)
        {
            var count = r.ReadCount(1, WasmModuleLimits.MaxDataSegments, "data segment");
            var segments = new WasmDataSegment[count];
            for (var i = 0; i < count; i++)
            {
                var flags = r.ReadVarU32();
                var mode = SegmentMode.Active;
                uint memory = 0;
                ConstExpr offset = default;
                switch (flags)
                {
                    case 0:
                        offset = ReadConstExpr(ref r, sectionStart);
                        break;
                    case 1:
                        mode = SegmentMode.Passive;
                        break;
                    case 2:
                        memory = r.ReadVarU32();
                        offset = ReadConstExpr(ref r, sectionStart);
                        break;
                    default:
                        throw r.Malformed("malformed data segment kind");
                }

                var length = r.ReadVarU32();
                if (length > (uint)r.Remaining)
                {
                    r.ThrowMalformed("unexpected end of section or function");
                }

                var dataStart = sectionStart + r.Position;
                r.Skip((int)length);
                segments[i] = new WasmDataSegment { Mode = mode, MemoryIndex = memory, Offset = offset, Data = _bytes.Slice(dataStart, (int)length) };
            }

            Module.Datas = segments;
        }

        /// <summary>
        /// Reads a constant expression up to its matching <c>end</c>. Structured instructions are tracked so the end is
        /// found even in a (later invalid) expression containing blocks.
        /// </summary>
        private ConstExpr ReadConstExpr(ref WasmBinaryReader r, int sectionStart)
        {
            var start = r.Position;
            var ops = new OperatorReader(r.Span[start..], sectionStart + start);
            var depth = 0;
            var instructions = 0;
            Operator first = default;
            while (true)
            {
                ops.Read(out var op);
                if (op.Opcode == Opcode.End)
                {
                    if (depth == 0)
                    {
                        break;
                    }

                    depth--;
                }
                else if (op.Opcode is Opcode.Block or Opcode.Loop or Opcode.If)
                {
                    depth++;
                }

                if (instructions++ == 0)
                {
                    first = op;
                }
            }

            var length = ops.Position;
            r.Skip(length);
            var code = _bytes.Slice(sectionStart + start, length);
            var offset = sectionStart + start;
            if (instructions != 1)
            {
                return new ConstExpr(ConstExprKind.Other, 0, 0, default, code, offset);
            }

            return first.Opcode switch
            {
                Opcode.I32Const => new ConstExpr(ConstExprKind.I32Const, first.Immediate, 0, WasmValueType.I32, code, offset),
                Opcode.I64Const => new ConstExpr(ConstExprKind.I64Const, first.Immediate, 0, WasmValueType.I64, code, offset),
                Opcode.F32Const => new ConstExpr(ConstExprKind.F32Const, first.Immediate, 0, WasmValueType.F32, code, offset),
                Opcode.F64Const => new ConstExpr(ConstExprKind.F64Const, first.Immediate, 0, WasmValueType.F64, code, offset),
                Opcode.RefNull => new ConstExpr(ConstExprKind.RefNull, 0, 0, first.RefType, code, offset),
                Opcode.RefFunc => new ConstExpr(ConstExprKind.RefFunc, 0, first.Index, WasmValueType.FuncRef, code, offset),
                Opcode.GlobalGet => new ConstExpr(ConstExprKind.GlobalGet, 0, first.Index, default, code, offset),
                _ => new ConstExpr(ConstExprKind.Other, 0, 0, default, code, offset),
            };
        }
    }
}
