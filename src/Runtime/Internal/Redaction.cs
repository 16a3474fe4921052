using System.Data.Common;

namespace Xmbl.Cluster.Runtime.Internal;

/// <summary>Removes secrets from connection strings before they reach a log or an exception message.</summary>
internal static class Redaction
{
    private static readonly string[] SecretKeys = ["password", "pwd", "passfile", "ssl password", "sslpassword", "ssl key", "sslkey"];

    public static string RedactConnectionString(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "(none)";
        }

        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToArray())
            {
                if (SecretKeys.Contains(key.Trim(), StringComparer.OrdinalIgnoreCase))
                {
                    builder[key] = "***";
                }
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            // Unparseable: say nothing about its contents rather than risk printing a password.
            return "(unparseable connection string)";
        }
    }
}
