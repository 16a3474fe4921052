namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// A write-only memory stream that ends the run at the first write past its cap: it throws
/// <see cref="OutputLimitExceededException"/>, which is not an <see cref="IOException"/>, so the WASI host does not turn
/// it into an error code the guest could ignore; the engine traps with it as the cause.
/// </summary>
internal sealed class CappedOutputStream(int cap) : MemoryStream
{
    public int Cap => cap;

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
            throw new OutputLimitExceededException(cap);
        }
    }
}

/// <summary>A run wrote past its output cap. The write that would cross the cap is refused whole, so the output kept
/// and the fuel used are the same on every node.</summary>
internal sealed class OutputLimitExceededException : Exception
{
    public OutputLimitExceededException()
    {
    }

    public OutputLimitExceededException(string message)
        : base(message)
    {
    }

    public OutputLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OutputLimitExceededException(int cap)
        : base($"output limit of {cap} bytes exceeded")
    {
    }
}
