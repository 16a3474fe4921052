namespace Xmbl.Cluster.Wasm;

/// <summary>
/// WebAssembly 2.0 operators (SIMD excluded). Single-byte opcodes keep their byte value; <c>0xFC</c>-prefixed ones are
/// <c>0xFC00 | subopcode</c>.
/// </summary>
internal enum Opcode : ushort
{
    /// <summary>Opcode 0x00.</summary>
    Unreachable = 0x00,

    /// <summary>Opcode 0x01.</summary>
    Nop = 0x01,

    /// <summary>Opcode 0x02.</summary>
    Block = 0x02,

    /// <summary>Opcode 0x03.</summary>
    Loop = 0x03,

    /// <summary>Opcode 0x04.</summary>
    If = 0x04,

    /// <summary>Opcode 0x05.</summary>
    Else = 0x05,

    /// <summary>Opcode 0x0B.</summary>
    End = 0x0B,

    /// <summary>Opcode 0x0C.</summary>
    Br = 0x0C,

    /// <summary>Opcode 0x0D.</summary>
    BrIf = 0x0D,

    /// <summary>Opcode 0x0E.</summary>
    BrTable = 0x0E,

    /// <summary>Opcode 0x0F.</summary>
    Return = 0x0F,

    /// <summary>Opcode 0x10.</summary>
    Call = 0x10,

    /// <summary>Opcode 0x11.</summary>
    CallIndirect = 0x11,

    /// <summary>Opcode 0x1A.</summary>
    Drop = 0x1A,

    /// <summary>Opcode 0x1B.</summary>
    Select = 0x1B,

    /// <summary>Opcode 0x1C.</summary>
    SelectTyped = 0x1C,

    /// <summary>Opcode 0x20.</summary>
    LocalGet = 0x20,

    /// <summary>Opcode 0x21.</summary>
    LocalSet = 0x21,

    /// <summary>Opcode 0x22.</summary>
    LocalTee = 0x22,

    /// <summary>Opcode 0x23.</summary>
    GlobalGet = 0x23,

    /// <summary>Opcode 0x24.</summary>
    GlobalSet = 0x24,

    /// <summary>Opcode 0x25.</summary>
    TableGet = 0x25,

    /// <summary>Opcode 0x26.</summary>
    TableSet = 0x26,

    /// <summary>Opcode 0x28.</summary>
    I32Load = 0x28,

    /// <summary>Opcode 0x29.</summary>
    I64Load = 0x29,

    /// <summary>Opcode 0x2A.</summary>
    F32Load = 0x2A,

    /// <summary>Opcode 0x2B.</summary>
    F64Load = 0x2B,

    /// <summary>Opcode 0x2C.</summary>
    I32Load8S = 0x2C,

    /// <summary>Opcode 0x2D.</summary>
    I32Load8U = 0x2D,

    /// <summary>Opcode 0x2E.</summary>
    I32Load16S = 0x2E,

    /// <summary>Opcode 0x2F.</summary>
    I32Load16U = 0x2F,

    /// <summary>Opcode 0x30.</summary>
    I64Load8S = 0x30,

    /// <summary>Opcode 0x31.</summary>
    I64Load8U = 0x31,

    /// <summary>Opcode 0x32.</summary>
    I64Load16S = 0x32,

    /// <summary>Opcode 0x33.</summary>
    I64Load16U = 0x33,

    /// <summary>Opcode 0x34.</summary>
    I64Load32S = 0x34,

    /// <summary>Opcode 0x35.</summary>
    I64Load32U = 0x35,

    /// <summary>Opcode 0x36.</summary>
    I32Store = 0x36,

    /// <summary>Opcode 0x37.</summary>
    I64Store = 0x37,

    /// <summary>Opcode 0x38.</summary>
    F32Store = 0x38,

    /// <summary>Opcode 0x39.</summary>
    F64Store = 0x39,

    /// <summary>Opcode 0x3A.</summary>
    I32Store8 = 0x3A,

    /// <summary>Opcode 0x3B.</summary>
    I32Store16 = 0x3B,

    /// <summary>Opcode 0x3C.</summary>
    I64Store8 = 0x3C,

    /// <summary>Opcode 0x3D.</summary>
    I64Store16 = 0x3D,

    /// <summary>Opcode 0x3E.</summary>
    I64Store32 = 0x3E,

    /// <summary>Opcode 0x3F.</summary>
    MemorySize = 0x3F,

    /// <summary>Opcode 0x40.</summary>
    MemoryGrow = 0x40,

    /// <summary>Opcode 0x41.</summary>
    I32Const = 0x41,

    /// <summary>Opcode 0x42.</summary>
    I64Const = 0x42,

    /// <summary>Opcode 0x43.</summary>
    F32Const = 0x43,

    /// <summary>Opcode 0x44.</summary>
    F64Const = 0x44,

    /// <summary>Opcode 0x45.</summary>
    I32Eqz = 0x45,

    /// <summary>Opcode 0x46.</summary>
    I32Eq = 0x46,

    /// <summary>Opcode 0x47.</summary>
    I32Ne = 0x47,

    /// <summary>Opcode 0x48.</summary>
    I32LtS = 0x48,

    /// <summary>Opcode 0x49.</summary>
    I32LtU = 0x49,

    /// <summary>Opcode 0x4A.</summary>
    I32GtS = 0x4A,

    /// <summary>Opcode 0x4B.</summary>
    I32GtU = 0x4B,

    /// <summary>Opcode 0x4C.</summary>
    I32LeS = 0x4C,

    /// <summary>Opcode 0x4D.</summary>
    I32LeU = 0x4D,

    /// <summary>Opcode 0x4E.</summary>
    I32GeS = 0x4E,

    /// <summary>Opcode 0x4F.</summary>
    I32GeU = 0x4F,

    /// <summary>Opcode 0x50.</summary>
    I64Eqz = 0x50,

    /// <summary>Opcode 0x51.</summary>
    I64Eq = 0x51,

    /// <summary>Opcode 0x52.</summary>
    I64Ne = 0x52,

    /// <summary>Opcode 0x53.</summary>
    I64LtS = 0x53,

    /// <summary>Opcode 0x54.</summary>
    I64LtU = 0x54,

    /// <summary>Opcode 0x55.</summary>
    I64GtS = 0x55,

    /// <summary>Opcode 0x56.</summary>
    I64GtU = 0x56,

    /// <summary>Opcode 0x57.</summary>
    I64LeS = 0x57,

    /// <summary>Opcode 0x58.</summary>
    I64LeU = 0x58,

    /// <summary>Opcode 0x59.</summary>
    I64GeS = 0x59,

    /// <summary>Opcode 0x5A.</summary>
    I64GeU = 0x5A,

    /// <summary>Opcode 0x5B.</summary>
    F32Eq = 0x5B,

    /// <summary>Opcode 0x5C.</summary>
    F32Ne = 0x5C,

    /// <summary>Opcode 0x5D.</summary>
    F32Lt = 0x5D,

    /// <summary>Opcode 0x5E.</summary>
    F32Gt = 0x5E,

    /// <summary>Opcode 0x5F.</summary>
    F32Le = 0x5F,

    /// <summary>Opcode 0x60.</summary>
    F32Ge = 0x60,

    /// <summary>Opcode 0x61.</summary>
    F64Eq = 0x61,

    /// <summary>Opcode 0x62.</summary>
    F64Ne = 0x62,

    /// <summary>Opcode 0x63.</summary>
    F64Lt = 0x63,

    /// <summary>Opcode 0x64.</summary>
    F64Gt = 0x64,

    /// <summary>Opcode 0x65.</summary>
    F64Le = 0x65,

    /// <summary>Opcode 0x66.</summary>
    F64Ge = 0x66,

    /// <summary>Opcode 0x67.</summary>
    I32Clz = 0x67,

    /// <summary>Opcode 0x68.</summary>
    I32Ctz = 0x68,

    /// <summary>Opcode 0x69.</summary>
    I32Popcnt = 0x69,

    /// <summary>Opcode 0x6A.</summary>
    I32Add = 0x6A,

    /// <summary>Opcode 0x6B.</summary>
    I32Sub = 0x6B,

    /// <summary>Opcode 0x6C.</summary>
    I32Mul = 0x6C,

    /// <summary>Opcode 0x6D.</summary>
    I32DivS = 0x6D,

    /// <summary>Opcode 0x6E.</summary>
    I32DivU = 0x6E,

    /// <summary>Opcode 0x6F.</summary>
    I32RemS = 0x6F,

    /// <summary>Opcode 0x70.</summary>
    I32RemU = 0x70,

    /// <summary>Opcode 0x71.</summary>
    I32And = 0x71,

    /// <summary>Opcode 0x72.</summary>
    I32Or = 0x72,

    /// <summary>Opcode 0x73.</summary>
    I32Xor = 0x73,

    /// <summary>Opcode 0x74.</summary>
    I32Shl = 0x74,

    /// <summary>Opcode 0x75.</summary>
    I32ShrS = 0x75,

    /// <summary>Opcode 0x76.</summary>
    I32ShrU = 0x76,

    /// <summary>Opcode 0x77.</summary>
    I32Rotl = 0x77,

    /// <summary>Opcode 0x78.</summary>
    I32Rotr = 0x78,

    /// <summary>Opcode 0x79.</summary>
    I64Clz = 0x79,

    /// <summary>Opcode 0x7A.</summary>
    I64Ctz = 0x7A,

    /// <summary>Opcode 0x7B.</summary>
    I64Popcnt = 0x7B,

    /// <summary>Opcode 0x7C.</summary>
    I64Add = 0x7C,

    /// <summary>Opcode 0x7D.</summary>
    I64Sub = 0x7D,

    /// <summary>Opcode 0x7E.</summary>
    I64Mul = 0x7E,

    /// <summary>Opcode 0x7F.</summary>
    I64DivS = 0x7F,

    /// <summary>Opcode 0x80.</summary>
    I64DivU = 0x80,

    /// <summary>Opcode 0x81.</summary>
    I64RemS = 0x81,

    /// <summary>Opcode 0x82.</summary>
    I64RemU = 0x82,

    /// <summary>Opcode 0x83.</summary>
    I64And = 0x83,

    /// <summary>Opcode 0x84.</summary>
    I64Or = 0x84,

    /// <summary>Opcode 0x85.</summary>
    I64Xor = 0x85,

    /// <summary>Opcode 0x86.</summary>
    I64Shl = 0x86,

    /// <summary>Opcode 0x87.</summary>
    I64ShrS = 0x87,

    /// <summary>Opcode 0x88.</summary>
    I64ShrU = 0x88,

    /// <summary>Opcode 0x89.</summary>
    I64Rotl = 0x89,

    /// <summary>Opcode 0x8A.</summary>
    I64Rotr = 0x8A,

    /// <summary>Opcode 0x8B.</summary>
    F32Abs = 0x8B,

    /// <summary>Opcode 0x8C.</summary>
    F32Neg = 0x8C,

    /// <summary>Opcode 0x8D.</summary>
    F32Ceil = 0x8D,

    /// <summary>Opcode 0x8E.</summary>
    F32Floor = 0x8E,

    /// <summary>Opcode 0x8F.</summary>
    F32Trunc = 0x8F,

    /// <summary>Opcode 0x90.</summary>
    F32Nearest = 0x90,

    /// <summary>Opcode 0x91.</summary>
    F32Sqrt = 0x91,

    /// <summary>Opcode 0x92.</summary>
    F32Add = 0x92,

    /// <summary>Opcode 0x93.</summary>
    F32Sub = 0x93,

    /// <summary>Opcode 0x94.</summary>
    F32Mul = 0x94,

    /// <summary>Opcode 0x95.</summary>
    F32Div = 0x95,

    /// <summary>Opcode 0x96.</summary>
    F32Min = 0x96,

    /// <summary>Opcode 0x97.</summary>
    F32Max = 0x97,

    /// <summary>Opcode 0x98.</summary>
    F32Copysign = 0x98,

    /// <summary>Opcode 0x99.</summary>
    F64Abs = 0x99,

    /// <summary>Opcode 0x9A.</summary>
    F64Neg = 0x9A,

    /// <summary>Opcode 0x9B.</summary>
    F64Ceil = 0x9B,

    /// <summary>Opcode 0x9C.</summary>
    F64Floor = 0x9C,

    /// <summary>Opcode 0x9D.</summary>
    F64Trunc = 0x9D,

    /// <summary>Opcode 0x9E.</summary>
    F64Nearest = 0x9E,

    /// <summary>Opcode 0x9F.</summary>
    F64Sqrt = 0x9F,

    /// <summary>Opcode 0xA0.</summary>
    F64Add = 0xA0,

    /// <summary>Opcode 0xA1.</summary>
    F64Sub = 0xA1,

    /// <summary>Opcode 0xA2.</summary>
    F64Mul = 0xA2,

    /// <summary>Opcode 0xA3.</summary>
    F64Div = 0xA3,

    /// <summary>Opcode 0xA4.</summary>
    F64Min = 0xA4,

    /// <summary>Opcode 0xA5.</summary>
    F64Max = 0xA5,

    /// <summary>Opcode 0xA6.</summary>
    F64Copysign = 0xA6,

    /// <summary>Opcode 0xA7.</summary>
    I32WrapI64 = 0xA7,

    /// <summary>Opcode 0xA8.</summary>
    I32TruncF32S = 0xA8,

    /// <summary>Opcode 0xA9.</summary>
    I32TruncF32U = 0xA9,

    /// <summary>Opcode 0xAA.</summary>
    I32TruncF64S = 0xAA,

    /// <summary>Opcode 0xAB.</summary>
    I32TruncF64U = 0xAB,

    /// <summary>Opcode 0xAC.</summary>
    I64ExtendI32S = 0xAC,

    /// <summary>Opcode 0xAD.</summary>
    I64ExtendI32U = 0xAD,

    /// <summary>Opcode 0xAE.</summary>
    I64TruncF32S = 0xAE,

    /// <summary>Opcode 0xAF.</summary>
    I64TruncF32U = 0xAF,

    /// <summary>Opcode 0xB0.</summary>
    I64TruncF64S = 0xB0,

    /// <summary>Opcode 0xB1.</summary>
    I64TruncF64U = 0xB1,

    /// <summary>Opcode 0xB2.</summary>
    F32ConvertI32S = 0xB2,

    /// <summary>Opcode 0xB3.</summary>
    F32ConvertI32U = 0xB3,

    /// <summary>Opcode 0xB4.</summary>
    F32ConvertI64S = 0xB4,

    /// <summary>Opcode 0xB5.</summary>
    F32ConvertI64U = 0xB5,

    /// <summary>Opcode 0xB6.</summary>
    F32DemoteF64 = 0xB6,

    /// <summary>Opcode 0xB7.</summary>
    F64ConvertI32S = 0xB7,

    /// <summary>Opcode 0xB8.</summary>
    F64ConvertI32U = 0xB8,

    /// <summary>Opcode 0xB9.</summary>
    F64ConvertI64S = 0xB9,

    /// <summary>Opcode 0xBA.</summary>
    F64ConvertI64U = 0xBA,

    /// <summary>Opcode 0xBB.</summary>
    F64PromoteF32 = 0xBB,

    /// <summary>Opcode 0xBC.</summary>
    I32ReinterpretF32 = 0xBC,

    /// <summary>Opcode 0xBD.</summary>
    I64ReinterpretF64 = 0xBD,

    /// <summary>Opcode 0xBE.</summary>
    F32ReinterpretI32 = 0xBE,

    /// <summary>Opcode 0xBF.</summary>
    F64ReinterpretI64 = 0xBF,

    /// <summary>Opcode 0xC0.</summary>
    I32Extend8S = 0xC0,

    /// <summary>Opcode 0xC1.</summary>
    I32Extend16S = 0xC1,

    /// <summary>Opcode 0xC2.</summary>
    I64Extend8S = 0xC2,

    /// <summary>Opcode 0xC3.</summary>
    I64Extend16S = 0xC3,

    /// <summary>Opcode 0xC4.</summary>
    I64Extend32S = 0xC4,

    /// <summary>Opcode 0xD0.</summary>
    RefNull = 0xD0,

    /// <summary>Opcode 0xD1.</summary>
    RefIsNull = 0xD1,

    /// <summary>Opcode 0xD2.</summary>
    RefFunc = 0xD2,

    /// <summary>Opcode 0xFC00.</summary>
    I32TruncSatF32S = 0xFC00,

    /// <summary>Opcode 0xFC01.</summary>
    I32TruncSatF32U = 0xFC01,

    /// <summary>Opcode 0xFC02.</summary>
    I32TruncSatF64S = 0xFC02,

    /// <summary>Opcode 0xFC03.</summary>
    I32TruncSatF64U = 0xFC03,

    /// <summary>Opcode 0xFC04.</summary>
    I64TruncSatF32S = 0xFC04,

    /// <summary>Opcode 0xFC05.</summary>
    I64TruncSatF32U = 0xFC05,

    /// <summary>Opcode 0xFC06.</summary>
    I64TruncSatF64S = 0xFC06,

    /// <summary>Opcode 0xFC07.</summary>
    I64TruncSatF64U = 0xFC07,

    /// <summary>Opcode 0xFC08.</summary>
    MemoryInit = 0xFC08,

    /// <summary>Opcode 0xFC09.</summary>
    DataDrop = 0xFC09,

    /// <summary>Opcode 0xFC0A.</summary>
    MemoryCopy = 0xFC0A,

    /// <summary>Opcode 0xFC0B.</summary>
    MemoryFill = 0xFC0B,

    /// <summary>Opcode 0xFC0C.</summary>
    TableInit = 0xFC0C,

    /// <summary>Opcode 0xFC0D.</summary>
    ElemDrop = 0xFC0D,

    /// <summary>Opcode 0xFC0E.</summary>
    TableCopy = 0xFC0E,

    /// <summary>Opcode 0xFC0F.</summary>
    TableGrow = 0xFC0F,

    /// <summary>Opcode 0xFC10.</summary>
    TableSize = 0xFC10,

    /// <summary>Opcode 0xFC11.</summary>
    TableFill = 0xFC11,
}
