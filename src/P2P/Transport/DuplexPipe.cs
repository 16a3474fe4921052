using System.IO.Pipelines;

namespace Xmbl.Cluster.P2P.Transport;

/// <summary>A reader and a writer, paired.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
