namespace Xmbl.Cluster.Wasm.Tests.Module;

/// <summary>Builds small module binaries for decoder/validator tests (sections with correct size prefixes).</summary>
internal sealed class WasmBinaryBuilder
{
    private readonly List<byte> _bytes = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

    public static byte[] Leb(ulong value)
    {
        var result = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (value != 0)
            {
                b |= 0x80;
            }

            result.Add(b);
        }
        while (value != 0);
        return [.. result];
    }

    public static byte[] Vec(params byte[][] items) => [.. Leb((ulong)items.Length), .. items.SelectMany(i => i)];

    public static byte[] Name(string name)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(name);
        return [.. Leb((ulong)utf8.Length), .. utf8];
    }

    public WasmBinaryBuilder Section(byte id, params byte[] content)
    {
        _bytes.Add(id);
        _bytes.AddRange(Leb((ulong)content.Length));
        _bytes.AddRange(content);
        return this;
    }

    public WasmBinaryBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>Type section with one function type.</summary>
    public WasmBinaryBuilder Types(params (byte[] Params, byte[] Results)[] types) =>
        Section(1, Vec([.. types.Select(t => (byte[])[0x60, .. Vec([.. t.Params.Select(p => new[] { p })]), .. Vec([.. t.Results.Select(r => new[] { r })])])]));

    public WasmBinaryBuilder Functions(params uint[] typeIndices) =>
        Section(3, Vec([.. typeIndices.Select(i => Leb(i))]));

    public WasmBinaryBuilder Memory(uint min, uint? max = null) =>
        Section(5, Vec(max is { } m ? [0x01, .. Leb(min), .. Leb(m)] : [0x00, .. Leb(min)]));

    /// <summary>Code section; each body is the instruction bytes (ending in 0x0B), with no locals.</summary>
    public WasmBinaryBuilder Code(params byte[][] bodies) =>
        Section(10, Vec([.. bodies.Select(b => (byte[])[.. Leb((ulong)b.Length + 1), 0x00, .. b])]));

    public byte[] Build() => [.. _bytes];

    /// <summary>A module with one <c>[] -&gt; results</c> function whose body is <paramref name="body"/>.</summary>
    public static byte[] SingleFunction(byte[] results, params byte[] body) =>
        new WasmBinaryBuilder().Types(([], results)).Functions(0).Code(body).Build();
}
