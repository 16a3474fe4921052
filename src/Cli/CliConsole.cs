using System.Text;

namespace Xmbl.Cluster.Cli;

/// <summary>The standard streams a command uses: the process's own, or in-memory ones in tests.</summary>
public sealed class CliConsole
{
    /// <summary>Creates a console over the given streams.</summary>
    /// <param name="stdin">Standard input.</param>
    /// <param name="stdout">Standard output.</param>
    /// <param name="stderr">Standard error.</param>
    /// <param name="isTerminal">Whether stdout is an interactive terminal.</param>
    public CliConsole(Stream stdin, Stream stdout, Stream stderr, bool isTerminal = false)
    {
        Stdin = stdin ?? throw new ArgumentNullException(nameof(stdin));
        Stdout = stdout ?? throw new ArgumentNullException(nameof(stdout));
        Stderr = stderr ?? throw new ArgumentNullException(nameof(stderr));
        IsTerminal = isTerminal;
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        Out = new StreamWriter(stdout, utf8, bufferSize: 1024, leaveOpen: true) { AutoFlush = true };
        Error = new StreamWriter(stderr, utf8, bufferSize: 1024, leaveOpen: true) { AutoFlush = true };
    }

    /// <summary>Standard input as bytes.</summary>
    public Stream Stdin { get; }

    /// <summary>Standard output as bytes.</summary>
    public Stream Stdout { get; }

    /// <summary>Standard error as bytes.</summary>
    public Stream Stderr { get; }

    /// <summary>Whether stdout is an interactive terminal (not redirected).</summary>
    public bool IsTerminal { get; }

    /// <summary>Text writer over <see cref="Stdout"/> (auto-flushing, so it interleaves correctly with raw writes).</summary>
    public TextWriter Out { get; }

    /// <summary>Text writer over <see cref="Stderr"/> (auto-flushing).</summary>
    public TextWriter Error { get; }

    /// <summary>The process's standard streams.</summary>
    /// <returns>The console.</returns>
    public static CliConsole FromProcess() => new(
        Console.OpenStandardInput(),
        Console.OpenStandardOutput(),
        Console.OpenStandardError(),
        isTerminal: !Console.IsOutputRedirected);
}
