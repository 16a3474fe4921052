using Microsoft.Extensions.Options;
using Npgsql;

namespace Xmbl.Cluster.Runtime.Options;

/// <summary>Validates <see cref="PersistenceOptions"/> at startup; messages name the configuration key and the fix.</summary>
internal sealed class PersistenceOptionsValidator : IValidateOptions<PersistenceOptions>
{
    public ValidateOptionsResult Validate(string? name, PersistenceOptions options)
    {
        var failures = new List<string>();
        if (options.Provider is { } p && !Enum.IsDefined(p))
        {
            failures.Add($"{PersistenceOptions.SectionName}:Provider has the unknown value '{p}'. Use 'Sqlite' or 'Postgres'.");
        }

        if (options.EffectiveProvider == PersistenceProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                failures.Add($"{PersistenceOptions.SectionName}:ConnectionString is required when {PersistenceOptions.SectionName}:Provider is 'Postgres'. " +
                    "Set it, e.g. \"Host=db;Database=xmbl;Username=xmbl;Password=...\" (or the environment variable Xmbl__Persistence__ConnectionString).");
            }
            else
            {
                try
                {
                    _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
                {
                    failures.Add($"{PersistenceOptions.SectionName}:ConnectionString is not a valid PostgreSQL connection string ({ex.Message}). " +
                        "Use the key=value form, e.g. \"Host=db;Database=xmbl;Username=xmbl;Password=...\".");
                }
            }
        }
        else if (string.IsNullOrWhiteSpace(options.SqlitePath))
        {
            failures.Add($"{PersistenceOptions.SectionName}:SqlitePath is empty. Set it to a file path such as '{PersistenceOptions.DefaultSqlitePath}', " +
                "or set Provider to 'Postgres' with a ConnectionString.");
        }

        if (options.ConnectTimeoutSeconds is < 1 or > 600)
        {
            failures.Add($"{PersistenceOptions.SectionName}:ConnectTimeoutSeconds is {options.ConnectTimeoutSeconds}; use a value from 1 to 600 (default {PersistenceOptions.DefaultConnectTimeoutSeconds}).");
        }

        if (options.CommandTimeoutSeconds is < 1 or > 3600)
        {
            failures.Add($"{PersistenceOptions.SectionName}:CommandTimeoutSeconds is {options.CommandTimeoutSeconds}; use a value from 1 to 3600 (default {PersistenceOptions.DefaultCommandTimeoutSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
