using System.CommandLine;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>
/// The user's wallet: an Ed25519 key file (owner-only, 0600) whose did:key is the account <c>xmbl</c> signs requests
/// as. Default <c>$XDG_CONFIG_HOME/xmbl/wallet.key</c>, else <c>~/.config/xmbl/wallet.key</c> (on Windows
/// <c>%APPDATA%\xmbl\wallet.key</c>); <c>--wallet FILE</c> picks another.
/// </summary>
public static class Wallets
{
    /// <summary><c>--wallet FILE</c> (recursive: valid on every subcommand).</summary>
    public static Option<FileInfo?> Option { get; } = new("--wallet")
    {
        Description = "The wallet (key file) to sign with (default: $XDG_CONFIG_HOME/xmbl/wallet.key, else ~/.config/xmbl/wallet.key).",
        HelpName = "FILE",
        Recursive = true,
    };

    /// <summary>The per-user default wallet path.</summary>
    public static string DefaultPath()
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "xmbl", "wallet.key");
        }

        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(config) || !Path.IsPathRooted(config))
        {
            // The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
            config = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        }

        return Path.Combine(config, "xmbl", "wallet.key");
    }

    /// <summary>The wallet path a command uses.</summary>
    public static string PathOf(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.GetValue(Option)?.FullName ?? DefaultPath();
    }

    /// <summary>Loads the wallet, creating it (and saying so on stderr) when there is none yet: for commands that change something.</summary>
    /// <exception cref="IOException">The file is not a wallet or cannot be written.</exception>
    public static async Task<Ed25519KeyPair> OpenOrCreateAsync(ParseResult parse, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var path = PathOf(parse);
        var existed = File.Exists(path);
        var key = Load(path);
        if (!existed)
        {
            await console.Error.WriteLineAsync($"xmbl: no wallet yet; created {path} for {key.PublicKey.Did}");
        }

        return key;
    }

    /// <summary>Loads the wallet if there is one (reads sign when they can, to reach private data), else null.</summary>
    public static Ed25519KeyPair? OpenIfExists(ParseResult parse)
    {
        var path = PathOf(parse);
        return File.Exists(path) ? Load(path) : null;
    }

    /// <summary>An HTTP client for the gateway that signs with <paramref name="key"/> when given.</summary>
    public static HttpClient Client(Uri gateway, Ed25519KeyPair? key)
    {
        var handler = key is null ? (HttpMessageHandler)new SocketsHttpHandler() : new SigningHandler(new RequestSigner(key)) { InnerHandler = new SocketsHttpHandler() };
        return new HttpClient(handler) { BaseAddress = gateway, Timeout = Timeout.InfiniteTimeSpan };
    }

    internal static Ed25519KeyPair Load(string path)
    {
        try
        {
            return KeyFile.LoadOrCreate(path);
        }
        catch (Exception ex) when (ex is InvalidDataException or UnauthorizedAccessException)
        {
            throw new IOException(ex.Message, ex);
        }
    }
}
