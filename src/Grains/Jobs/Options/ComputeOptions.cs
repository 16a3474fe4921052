namespace Xmbl.Cluster.Grains.Jobs.Options;

/// <summary>How jobs are run, validated and scheduled; bound from <c>Xmbl:Compute</c>.</summary>
/// <remarks>
/// <code>
/// { "Xmbl": { "Compute": { "MaxAttempts": 3, "DefaultFuel": 1000000000, "MaxOutputBytes": 1048576 } } }
/// </code>
/// </remarks>
public sealed class ComputeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Compute";

    /// <summary>Default fuel of a job that names none: ten billion units.</summary>
    public const long DefaultFuelLimit = 10_000_000_000;

    /// <summary>Default memory cap: 256 pages (16 MiB).</summary>
    public const int DefaultMemoryPagesLimit = 256;

    /// <summary>Default attempts per role before a job fails.</summary>
    public const int DefaultMaxAttempts = 3;

    /// <summary>Default tie-breakers per job before a dispute fails.</summary>
    public const int DefaultMaxTieBreakers = 2;

    /// <summary>Default cap on a job's output (stdout): 1 MiB.</summary>
    public const int DefaultMaxOutputBytes = 1 << 20;

    /// <summary>Default cap on a job's stdin: 1 MiB.</summary>
    public const int DefaultMaxStdinBytes = 1 << 20;

    /// <summary>Default of <see cref="MaxInputObjects"/>.</summary>
    public const int DefaultMaxInputObjects = 16;

    /// <summary>Default of <see cref="MaxInputBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxInputBytes = 64L << 20;

    /// <summary>Default cap on a module's size: 32 MiB.</summary>
    public const int DefaultMaxModuleBytes = 32 << 20;

    /// <summary>Default of <see cref="MaxArgs"/>.</summary>
    public const int DefaultMaxArgs = 1024;

    /// <summary>Default of <see cref="MaxArgsBytes"/>: 64 KiB.</summary>
    public const int DefaultMaxArgsBytes = 64 << 10;

    /// <summary>Default of <see cref="MaxEnvVars"/>.</summary>
    public const int DefaultMaxEnvVars = 256;

    /// <summary>Default of <see cref="MaxEnvBytes"/>: 64 KiB.</summary>
    public const int DefaultMaxEnvBytes = 64 << 10;

    /// <summary>Default of <see cref="MaxEntryLength"/>.</summary>
    public const int DefaultMaxEntryLength = 256;

    /// <summary>Default of <see cref="MaxJobRequestBytes"/>: 48 MiB, room for a 32 MiB module in base64 plus a 1 MiB stdin.</summary>
    public const int DefaultMaxJobRequestBytes = 48 << 20;

    /// <summary>Default depth of nested jobs (a module running a module running a module …).</summary>
    public const int DefaultMaxNestingDepth = 4;

    /// <summary>Default reputation under which a node gets no jobs.</summary>
    public const double DefaultMinReputation = 0.2;

    /// <summary>Default of <see cref="StuckRunGrace"/>.</summary>
    public static readonly TimeSpan DefaultStuckRunGrace = TimeSpan.FromSeconds(5);

    /// <summary>Default of <see cref="MaxStuckRuns"/>.</summary>
    public const int DefaultMaxStuckRuns = 1;

    /// <summary>Default of <see cref="RunMemoryOverheadBytes"/>: 16 MiB.</summary>
    public const long DefaultRunMemoryOverheadBytes = 16L << 20;

    /// <summary>Default of <see cref="PoisonAfterRestarts"/>.</summary>
    public const int DefaultPoisonAfterRestarts = 2;

    /// <summary>Default of <see cref="NodeTimeBudget"/>.</summary>
    public const int DefaultNodeTimeBudget = 8;

    /// <summary>Default of <see cref="SameFailureNodes"/>.</summary>
    public const int DefaultSameFailureNodes = 2;

    /// <summary>Default wall-clock limit of one run.</summary>
    public static readonly TimeSpan DefaultWallTime = TimeSpan.FromSeconds(30);

    /// <summary>Default allowance on top of the wall time before an unreported assignment counts as timed out.</summary>
    public static readonly TimeSpan DefaultDispatchGrace = TimeSpan.FromSeconds(10);

    /// <summary>Default time a job may wait for a node before it fails.</summary>
    public static readonly TimeSpan DefaultPendingTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Default of <see cref="RoleWaitTimeout"/>.</summary>
    public static readonly TimeSpan DefaultRoleWaitTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Default of <see cref="SettleTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSettleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Default of <see cref="ReputationHalfLife"/>.</summary>
    public static readonly TimeSpan DefaultReputationHalfLife = TimeSpan.FromMinutes(10);

    /// <summary>Default interval at which the scheduler re-reads nodes and reputations.</summary>
    public static readonly TimeSpan DefaultNodeRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default interval at which batched reputation agreements are written.</summary>
    public static readonly TimeSpan DefaultReputationFlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default interval of the periodic sweep that activates unfinished jobs no silo ticks.</summary>
    public static readonly TimeSpan DefaultJobSweepInterval = TimeSpan.FromSeconds(30);

    /// <summary>Fuel of a job that names none.</summary>
    public long DefaultFuel { get; set; } = DefaultFuelLimit;

    /// <summary>The most fuel a job may ask for.</summary>
    public long MaxFuel { get; set; } = 1_000_000_000_000;

    /// <summary>Memory pages of a job that names none.</summary>
    public int DefaultMemoryPages { get; set; } = DefaultMemoryPagesLimit;

    /// <summary>The most memory pages a job may ask for (65536 = 4 GiB).</summary>
    public int MaxMemoryPages { get; set; } = 16_384;

    /// <summary>Wall time of a job that names none.</summary>
    public TimeSpan DefaultWallTimeLimit { get; set; } = DefaultWallTime;

    /// <summary>The most wall time a job may ask for.</summary>
    public TimeSpan MaxWallTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Attempts per role (executor, each validator) before the job fails.</summary>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>Tie-breakers per job before a dispute fails.</summary>
    public int MaxTieBreakers { get; set; } = DefaultMaxTieBreakers;

    /// <summary>Allowance on top of the wall time before an unreported assignment counts as timed out.</summary>
    public TimeSpan DispatchGrace { get; set; } = DefaultDispatchGrace;

    /// <summary>How long a job may wait for a node before it fails.</summary>
    public TimeSpan PendingTimeout { get; set; } = DefaultPendingTimeout;

    /// <summary>How long a role (executor, validator or tie-breaker slot) of a scheduled job may wait for an eligible node before the job fails.</summary>
    public TimeSpan RoleWaitTimeout { get; set; } = DefaultRoleWaitTimeout;

    /// <summary>How long a validated job may keep failing to settle (retried at every reminder tick) before it fails.</summary>
    public TimeSpan SettleTimeout { get; set; } = DefaultSettleTimeout;

    /// <summary>Distinct nodes that must report the same error for a job before it fails as the job's own fault (no node loses reputation).</summary>
    public int SameFailureNodes { get; set; } = DefaultSameFailureNodes;

    /// <summary>A reputation below the neutral <c>0.5</c> moves halfway back to it every this long since its last change.</summary>
    public TimeSpan ReputationHalfLife { get; set; } = DefaultReputationHalfLife;

    /// <summary>Bytes of output a run may write; more fails the write.</summary>
    public int MaxOutputBytes { get; set; } = DefaultMaxOutputBytes;

    /// <summary>Bytes of stdin a job may carry.</summary>
    public int MaxStdinBytes { get; set; } = DefaultMaxStdinBytes;

    /// <summary>The most stored objects one job may read (mounted under <c>/input</c>).</summary>
    public int MaxInputObjects { get; set; } = DefaultMaxInputObjects;

    /// <summary>The most bytes of stored objects one job may read, all inputs together (each run holds them in memory).</summary>
    public long MaxInputBytes { get; set; } = DefaultMaxInputBytes;

    /// <summary>Bytes a module may have.</summary>
    public int MaxModuleBytes { get; set; } = DefaultMaxModuleBytes;

    /// <summary>The most arguments a job may have.</summary>
    public int MaxArgs { get; set; } = DefaultMaxArgs;

    /// <summary>The most bytes of arguments a job may have, all together, each counted as UTF-8 plus its terminating NUL.</summary>
    public int MaxArgsBytes { get; set; } = DefaultMaxArgsBytes;

    /// <summary>The most environment variables a job may have.</summary>
    public int MaxEnvVars { get; set; } = DefaultMaxEnvVars;

    /// <summary>The most bytes of environment a job may have, all together, each variable counted as UTF-8 <c>NAME=value</c> plus NUL.</summary>
    public int MaxEnvBytes { get; set; } = DefaultMaxEnvBytes;

    /// <summary>The longest entry (exported function name) a job may name, in characters.</summary>
    public int MaxEntryLength { get; set; } = DefaultMaxEntryLength;

    /// <summary>
    /// The largest body of <c>POST /api/jobs</c>, in bytes; larger is refused with 413 before it is read. It must leave
    /// room for a module of <see cref="MaxModuleBytes"/> and a stdin of <see cref="MaxStdinBytes"/>, both in base64.
    /// </summary>
    public int MaxJobRequestBytes { get; set; } = DefaultMaxJobRequestBytes;

    /// <summary>
    /// The WebAssembly engine that validates, compiles and runs this silo's jobs: <c>wasmtime</c> (default) or
    /// <c>managed</c> (<c>src/Wasm</c>). Nodes announce it in <c>/api/cluster</c>, and a job is validated only by
    /// nodes of the executor's engine and version (fuel is counted differently by each engine).
    /// </summary>
    public string Engine { get; set; } = Xmbl.Cluster.Wasm.Engines.WasmEngineNames.Default;

    /// <summary>How deep nested jobs may go.</summary>
    public int MaxNestingDepth { get; set; } = DefaultMaxNestingDepth;

    /// <summary>Reputation under which a node gets no jobs.</summary>
    public double MinReputation { get; set; } = DefaultMinReputation;

    /// <summary>Interval at which the scheduler re-reads nodes and reputations.</summary>
    public TimeSpan NodeRefreshInterval { get; set; } = DefaultNodeRefreshInterval;

    /// <summary>Interval at which batched reputation agreements are written.</summary>
    public TimeSpan ReputationFlushInterval { get; set; } = DefaultReputationFlushInterval;

    /// <summary>
    /// Interval at which each silo activates the unfinished jobs (besides at its start and when a silo is lost), so a
    /// job whose activation went away with nothing left to call it (its storage failed while it undid a call) ticks
    /// again within this.
    /// </summary>
    public TimeSpan JobSweepInterval { get; set; } = DefaultJobSweepInterval;

    /// <summary>
    /// How long past its wall-clock limit a run may take to return before its executor cancels it, and, when it does not
    /// return within another second (at most this grace) either, counts it as stuck: the
    /// assignment is reported as ended at the wall-clock limit with the reason, the worker moves on, and the stuck
    /// run's thread and memory stay accounted to the node until they return.
    /// </summary>
    public TimeSpan StuckRunGrace { get; set; } = DefaultStuckRunGrace;

    /// <summary>Stuck runs a node carries and still takes jobs; with more it is unhealthy (no jobs, <c>/healthz</c> 503) until they return.</summary>
    public int MaxStuckRuns { get; set; } = DefaultMaxStuckRuns;

    /// <summary>
    /// Memory counted per run on top of its linear memory cap (memory pages x 64 KiB) when a node admits runs and
    /// when the scheduler places them: engine structures, stdin, the output buffer and input objects.
    /// </summary>
    public long RunMemoryOverheadBytes { get; set; } = DefaultRunMemoryOverheadBytes;

    /// <summary>
    /// Silo restarts (not clean stops) that may find a job's assignment still running before the job fails as
    /// poisonous instead of running again.
    /// </summary>
    public int PoisonAfterRestarts { get; set; } = DefaultPoisonAfterRestarts;

    /// <summary>
    /// Node time one job may use, all runs and retries together, in multiples of its wall-clock limit; a retry that
    /// could exceed it fails the job instead.
    /// </summary>
    public int NodeTimeBudget { get; set; } = DefaultNodeTimeBudget;

    /// <summary>Keep module bytes in the database so every silo can fetch them; null decides by mode (on with PostgreSQL).</summary>
    public bool? ModulesInDatabase { get; set; }

    /// <summary>
    /// Chaos testing only: indexes of this silo's nodes whose executors alter their output (to exercise validation).
    /// Never set this in production.
    /// </summary>
    public IList<int> LyingNodes { get; } = new List<int>();
}
