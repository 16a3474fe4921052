namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Small modules written out in binary here (no WebAssembly toolchain is needed to build the tests).</summary>
internal static class HandWrittenModules
{
    /// <summary>
    /// A WASI command that writes 4 KiB to stdout forever and ignores every error:
    /// <code>
    /// (module
    ///   (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    ///   (memory (export "memory") 1)
    ///   (func (export "_start")
    ///     (i32.store (i32.const 0) (i32.const 16))      ;; iovec.buf
    ///     (i32.store (i32.const 4) (i32.const 4096))    ;; iovec.len
    ///     (loop $again
    ///       (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ///       (br $again))))
    /// </code>
    /// </summary>
    public static byte[] EndlessWriter() =>
    [
        0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
        // types: (i32 i32 i32 i32) -> i32, () -> ()
        0x01, 0x0C, 0x02, 0x60, 0x04, 0x7F, 0x7F, 0x7F, 0x7F, 0x01, 0x7F, 0x60, 0x00, 0x00,
        // import wasi_snapshot_preview1.fd_write as function 0
        0x02, 0x23, 0x01, 0x16, .. "wasi_snapshot_preview1"u8, 0x08, .. "fd_write"u8, 0x00, 0x00,
        // function 1 has type 1
        0x03, 0x02, 0x01, 0x01,
        // one memory of one page
        0x05, 0x03, 0x01, 0x00, 0x01,
        // exports: memory, _start
        0x07, 0x13, 0x02, 0x06, .. "memory"u8, 0x02, 0x00, 0x06, .. "_start"u8, 0x00, 0x01,
        // code
        0x0A, 0x23, 0x01, 0x21, 0x00,
        0x41, 0x00, 0x41, 0x10, 0x36, 0x02, 0x00,
        0x41, 0x04, 0x41, 0x80, 0x20, 0x36, 0x02, 0x00,
        0x03, 0x40,
        0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, 0x10, 0x00, 0x1A,
        0x0C, 0x00,
        0x0B,
        0x0B,
    ];

    /// <summary>
    /// A WASI command that counts to <paramref name="iterations"/> and then runs the module <paramref name="childHash"/>
    /// as a nested job:
    /// <code>
    /// (module
    ///   (import "xmbl" "run_module" (func $run (param i32 i32 i32 i32 i32 i32) (result i64)))
    ///   (memory (export "memory") 1)
    ///   (func (export "_start") (local $i i32)
    ///     (block $done (loop $spin
    ///       (br_if $done (i32.ge_u (local.get $i) (i32.const ITERATIONS)))
    ///       (local.set $i (i32.add (local.get $i) (i32.const 1)))
    ///       (br $spin)))
    ///     (drop (call $run (i32.const 0) (i32.const 64) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
    ///   (data (i32.const 0) "CHILD_HASH"))
    /// </code>
    /// </summary>
    /// <param name="iterations">How far to count first.</param>
    /// <param name="childHash">The nested module.</param>
    /// <param name="export">When true the function is exported as <c>run</c> and returns <c>run_module</c>'s result
    /// (a job with that entry prints it) instead of dropping it.</param>
    public static byte[] SpinThenRunNested(int iterations, string childHash, bool export = false)
    {
        ArgumentNullException.ThrowIfNull(childHash);
        List<byte> body =
        [
            0x01, 0x01, 0x7F,
            0x02, 0x40, 0x03, 0x40,
            0x20, 0x00, 0x41, .. Sleb(iterations), 0x4F, 0x0D, 0x01,
            0x20, 0x00, 0x41, 0x01, 0x6A, 0x21, 0x00,
            0x0C, 0x00, 0x0B, 0x0B,
            0x41, 0x00, 0x41, 0xC0, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00,
            0x10, 0x00, .. (export ? (byte[])[] : [0x1A]), 0x0B,
        ];
        List<byte> code = [0x01, .. Uleb(body.Count), .. body];
        var hash = System.Text.Encoding.ASCII.GetBytes(childHash);
        return
        [
            0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
            .. (export
                ? (byte[])[0x01, 0x0F, 0x02, 0x60, 0x06, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x01, 0x7E, 0x60, 0x00, 0x01, 0x7E]
                : [0x01, 0x0E, 0x02, 0x60, 0x06, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x01, 0x7E, 0x60, 0x00, 0x00]),
            0x02, 0x13, 0x01, 0x04, .. "xmbl"u8, 0x0A, .. "run_module"u8, 0x00, 0x00,
            0x03, 0x02, 0x01, 0x01,
            0x05, 0x03, 0x01, 0x00, 0x01,
            .. (export
                ? (byte[])[0x07, 0x10, 0x02, 0x06, .. "memory"u8, 0x02, 0x00, 0x03, .. "run"u8, 0x00, 0x01]
                : [0x07, 0x13, 0x02, 0x06, .. "memory"u8, 0x02, 0x00, 0x06, .. "_start"u8, 0x00, 0x01]),
            0x0A, .. Uleb(code.Count), .. code,
            0x0B, .. Uleb(6 + hash.Length), 0x01, 0x00, 0x41, 0x00, 0x0B, .. Uleb(hash.Length), .. hash,
        ];
    }

    /// <summary>A WASI command whose memory starts at <paramref name="pages"/> pages and whose <c>_start</c> does nothing.</summary>
    public static byte[] EmptyCommandWithMemory(byte pages) =>
    [
        0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
        0x03, 0x02, 0x01, 0x00,
        0x05, 0x03, 0x01, 0x00, pages,
        0x07, 0x0A, 0x01, 0x06, .. "_start"u8, 0x00, 0x00,
        0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B,
    ];

    private static List<byte> Uleb(int value)
    {
        var bytes = new List<byte>();
        var v = (uint)value;
        do
        {
            var b = (byte)(v & 0x7F);
            v >>= 7;
            bytes.Add(v == 0 ? b : (byte)(b | 0x80));
        }
        while (v != 0);
        return bytes;
    }

    private static List<byte> Sleb(int value)
    {
        var bytes = new List<byte>();
        var more = true;
        while (more)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            more = !((value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0));
            bytes.Add(more ? (byte)(b | 0x80) : b);
        }

        return bytes;
    }
}
