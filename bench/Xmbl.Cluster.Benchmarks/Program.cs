using BenchmarkDotNet.Running;
using Xmbl.Cluster.Benchmarks.Codec;

namespace Xmbl.Cluster.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher over every benchmark in this assembly (a folder per area).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Quick side-by-side mode for the erasure codec against ISA-L (see bench/isal/compare.sh).
        if (args.Length > 0 && args[0] == CodecCompare.Switch)
        {
            return CodecCompare.Run(args[1..]);
        }

        // Load run of the job pipeline (see Jobs/JobThroughput.cs and docs/benchmarks.md).
        if (args.Length > 0 && args[0] == Jobs.JobThroughput.Switch)
        {
            return Jobs.JobThroughput.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Task start latency and tasks per second (see Jobs/TaskStart.cs and docs/benchmarks.md).
        if (args.Length > 0 && args[0] == Jobs.TaskStart.Switch)
        {
            return Jobs.TaskStart.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Bulk throughput and connection set-up, ours and js-libp2p (see P2P/P2PThroughput.cs).
        if (args.Length > 0 && args[0] == P2P.P2PThroughput.Switch)
        {
            return P2P.P2PThroughput.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // The libp2p bridge against REST through a real silo: objects and the job round trip (see P2P/BridgeThroughput.cs).
        if (args.Length > 0 && args[0] == P2P.BridgeThroughput.Switch)
        {
            return P2P.BridgeThroughput.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Grain-state writes on SQLite: Orleans' AdoNet storage against src/Runtime's store (see Storage/GrainStorageWrites.cs).
        if (args.Length > 0 && args[0] == Storage.GrainStorageWrites.Switch)
        {
            return Storage.GrainStorageWrites.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Embedded silo start to healthy, a real process (see Silo/SiloStart.cs).
        if (args.Length > 0 && args[0] == Silo.SiloStart.Switch)
        {
            return Silo.SiloStart.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Small gRPC requests with Grpc.Net.Client (see Grpc/GrpcLoop.cs and bench/grpc/compare.sh).
        if (args.Length > 0 && args[0] == Grpc.GrpcLoop.Switch)
        {
            return Grpc.GrpcLoop.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        // Ledger transfers per second on PostgreSQL (see Ledger/TransferThroughput.cs and bench/ledger/compare.sh).
        if (args.Length > 0 && args[0] == Ledger.TransferThroughput.Switch)
        {
            return Ledger.TransferThroughput.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
