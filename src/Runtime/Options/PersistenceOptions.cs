namespace Xmbl.Cluster.Runtime.Options;

/// <summary>Where the grain runtime keeps its state; bound from the <c>Xmbl:Persistence</c> configuration section.</summary>
public sealed class PersistenceOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Persistence";

    /// <summary>The SQLite file used when nothing is configured.</summary>
    public const string DefaultSqlitePath = "data/grains.db";

    /// <summary>Default seconds to wait for a database connection before startup fails.</summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    /// <summary>Default seconds a single statement may run.</summary>
    public const int DefaultCommandTimeoutSeconds = 30;

    /// <summary>
    /// The backend (<c>Xmbl:Persistence:Provider</c>: <c>Sqlite</c> or <c>Postgres</c>). When unset, a configured
    /// <see cref="ConnectionString"/> selects PostgreSQL and otherwise SQLite is used.
    /// </summary>
    public PersistenceProvider? Provider { get; set; }

    /// <summary>The PostgreSQL connection string (<c>Xmbl:Persistence:ConnectionString</c>); a secret, redacted in logs.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The SQLite database file (<c>Xmbl:Persistence:SqlitePath</c>); created with its directory if missing.</summary>
    public string SqlitePath { get; set; } = DefaultSqlitePath;

    /// <summary>Seconds to wait for a connection (<c>Xmbl:Persistence:ConnectTimeoutSeconds</c>); startup fails fast after this.</summary>
    public int ConnectTimeoutSeconds { get; set; } = DefaultConnectTimeoutSeconds;

    /// <summary>Seconds a single statement may run (<c>Xmbl:Persistence:CommandTimeoutSeconds</c>).</summary>
    public int CommandTimeoutSeconds { get; set; } = DefaultCommandTimeoutSeconds;

    /// <summary>The backend in effect: <see cref="Provider"/>, else PostgreSQL if a connection string is set, else SQLite.</summary>
    public PersistenceProvider EffectiveProvider =>
        Provider ?? (string.IsNullOrWhiteSpace(ConnectionString) ? PersistenceProvider.Sqlite : PersistenceProvider.Postgres);

    /// <summary>Describes the options for logs, with the connection string's password and other secrets redacted.</summary>
    /// <returns>A one-line description safe to log.</returns>
    public override string ToString() => EffectiveProvider == PersistenceProvider.Postgres
        ? $"Provider=Postgres, ConnectionString={Internal.Redaction.RedactConnectionString(ConnectionString)}"
        : $"Provider=Sqlite, SqlitePath={SqlitePath}";
}
