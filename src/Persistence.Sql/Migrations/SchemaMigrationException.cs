namespace Xmbl.Cluster.Persistence.Sql.Migrations;

/// <summary>The schema could not be brought up to date; the message names the script and the cause.</summary>
public sealed class SchemaMigrationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SchemaMigrationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public SchemaMigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchemaMigrationException()
    {
    }
}
