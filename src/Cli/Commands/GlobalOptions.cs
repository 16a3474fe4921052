using System.CommandLine;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>Options shared by every command that talks to a cluster, defined once on the root command.</summary>
public static class GlobalOptions
{
    /// <summary>Environment variable that sets the default gateway.</summary>
    public const string GatewayEnvironmentVariable = "XMBL_GATEWAY";

    /// <summary>The gateway used when neither <c>--gateway</c> nor <see cref="GatewayEnvironmentVariable"/> is set.</summary>
    public const string DefaultGateway = "http://127.0.0.1:5080";

    /// <summary><c>--gateway URL</c>: the cluster gateway's base address (recursive: valid on every subcommand).</summary>
    public static Option<Uri> Gateway { get; } = CreateGatewayOption();

    /// <summary>The gateway a command should use: the option's value (which defaults from the environment).</summary>
    /// <param name="parseResult">The parsed command line.</param>
    /// <returns>The gateway's base address.</returns>
    public static Uri GetGateway(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.GetValue(Gateway) ?? new Uri(DefaultGateway);
    }

    private static Option<Uri> CreateGatewayOption()
    {
        var option = new Option<Uri>("--gateway")
        {
            Description = $"Gateway base URL (default: ${GatewayEnvironmentVariable}, else {DefaultGateway}).",
            HelpName = "URL",
            Recursive = true,
            DefaultValueFactory = result =>
            {
                var text = Environment.GetEnvironmentVariable(GatewayEnvironmentVariable) is { Length: > 0 } env ? env : DefaultGateway;
                if (TryParse(text, out var uri))
                {
                    return uri;
                }

                result.AddError($"${GatewayEnvironmentVariable} ('{text}') is not an http(s) URL.");
                return null!;
            },
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (TryParse(text, out var uri))
                {
                    return uri;
                }

                result.AddError($"--gateway: '{text}' is not an http(s) URL.");
                return null!;
            },
        };
        return option;
    }

    private static bool TryParse(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
