using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>What a WASI program sees of the world: arguments, environment, standard streams, preopened
/// directories, clocks and randomness. Nothing else of the host is reachable.</summary>
/// <remarks>
/// For a deterministic run (same module + same configuration → same output bytes and fuel), set
/// <see cref="Seed"/> and <see cref="ClockMode"/> = <see cref="WasiClockMode.Deterministic"/> (or call
/// <see cref="MakeDeterministic"/>), give stdin as a fixed stream and use file systems whose content is fixed.
/// </remarks>
public sealed class WasiConfiguration
{
    /// <summary>Default start of the virtual realtime clock: 2024-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultVirtualEpoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Default advance of the virtual clock per read: one microsecond.</summary>
    public static readonly TimeSpan DefaultVirtualClockStep = TimeSpan.FromMicroseconds(1);

    /// <summary>The default cap on open file descriptors (including stdio and preopens).</summary>
    public const int DefaultMaxOpenFiles = 1024;

    /// <summary>Program arguments; <c>Arguments[0]</c> is the program name by convention.</summary>
    public IList<string> Arguments { get; } = new List<string>();

    /// <summary>Environment variables, passed in this order as <c>KEY=VALUE</c>.</summary>
    public IList<KeyValuePair<string, string>> Environment { get; } = new List<KeyValuePair<string, string>>();

    /// <summary>Standard input (fd 0); null reads as an empty stream.</summary>
    public Stream? Stdin { get; set; }

    /// <summary>Standard output (fd 1); null discards output.</summary>
    public Stream? Stdout { get; set; }

    /// <summary>Standard error (fd 2); null discards output.</summary>
    public Stream? Stderr { get; set; }

    /// <summary>Whether fds 0-2 report themselves as a terminal (character device without seek rights), which
    /// makes wasi-libc line-buffer stdout. Off by default: stdout is then fully buffered, like a pipe.</summary>
    public bool StdioIsTerminal { get; set; }

    /// <summary>Preopened directories, fds 3, 4, ... in this order.</summary>
    public IList<WasiPreopen> Preopens { get; } = new List<WasiPreopen>();

    /// <summary>Seed of <c>random_get</c>; null draws from the operating system's CSPRNG instead.</summary>
    public ulong? Seed { get; set; }

    /// <summary>Where clock readings come from.</summary>
    public WasiClockMode ClockMode { get; set; } = WasiClockMode.Host;

    /// <summary>Start of the realtime clock in <see cref="WasiClockMode.Deterministic"/> mode.</summary>
    public DateTimeOffset VirtualEpoch { get; set; } = DefaultVirtualEpoch;

    /// <summary>How far the virtual clock advances on each read in <see cref="WasiClockMode.Deterministic"/>
    /// mode (must be positive so that busy-wait loops end).</summary>
    public TimeSpan VirtualClockStep { get; set; } = DefaultVirtualClockStep;

    /// <summary>Clock source for <see cref="WasiClockMode.Host"/> mode; defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Cancels host-mode sleeps in <c>poll_oneoff</c> (the call then traps with
    /// <see cref="TrapKind.Timeout"/>). Use the same token as the store's limits.</summary>
    public CancellationToken Cancellation { get; set; }

    /// <summary>The most file descriptors open at once; further opens fail with <c>EMFILE</c>.</summary>
    public int MaxOpenFiles { get; set; } = DefaultMaxOpenFiles;

    /// <summary>Adds an argument.</summary>
    /// <param name="argument">The argument.</param>
    /// <returns>This configuration.</returns>
    public WasiConfiguration AddArgument(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        Arguments.Add(argument);
        return this;
    }

    /// <summary>Adds an environment variable.</summary>
    /// <param name="name">The name (must not contain <c>=</c>).</param>
    /// <param name="value">The value.</param>
    /// <returns>This configuration.</returns>
    public WasiConfiguration AddEnvironment(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Contains('=', StringComparison.Ordinal))
        {
            throw new ArgumentException("An environment variable name cannot contain '='.", nameof(name));
        }

        Environment.Add(new KeyValuePair<string, string>(name, value));
        return this;
    }

    /// <summary>Preopens a directory under a guest-visible name.</summary>
    /// <param name="guestPath">The guest's name for it (for example <c>.</c> or <c>/data</c>).</param>
    /// <param name="fileSystem">The files behind it.</param>
    /// <returns>This configuration.</returns>
    public WasiConfiguration AddPreopen(string guestPath, IWasiFileSystem fileSystem)
    {
        ArgumentException.ThrowIfNullOrEmpty(guestPath);
        ArgumentNullException.ThrowIfNull(fileSystem);
        Preopens.Add(new WasiPreopen(guestPath, fileSystem));
        return this;
    }

    /// <summary>Switches clocks and randomness to their deterministic, seed-derived versions.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>This configuration.</returns>
    public WasiConfiguration MakeDeterministic(ulong seed)
    {
        Seed = seed;
        ClockMode = WasiClockMode.Deterministic;
        return this;
    }
}
