namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>A write-only memory stream that refuses writes past a cap (the guest then sees an I/O error).</summary>
internal sealed class CappedOutputStream(int cap) : MemoryStream
{
    public override void Write(byte[] buffer, int offset, int count)
    {
        Check(count);
        base.Write(buffer, offset, count);
    }

    // MemoryStream's span overload calls the array overload in derived classes, so copy once and go there.
    public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

    public override void WriteByte(byte value)
    {
        Check(1);
        base.WriteByte(value);
    }

    private void Check(int count)
    {
        if (Length + count > cap)
        {
            throw new IOException($"output limit of {cap} bytes exceeded");
        }
    }
}
