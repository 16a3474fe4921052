namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>A write-only memory stream that refuses writes past a cap (the guest then sees an I/O error).</summary>
internal sealed class CappedOutputStream(int cap) : MemoryStream
{
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Length + buffer.Length > cap)
        {
            throw new IOException($"output limit of {cap} bytes exceeded");
        }

        base.Write(buffer);
    }

    public override void WriteByte(byte value) => Write([value]);
}
