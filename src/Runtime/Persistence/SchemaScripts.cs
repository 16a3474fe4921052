namespace Xmbl.Cluster.Runtime.Persistence;

/// <summary>The schema files of deploy/sql, embedded in this assembly so there is one copy.</summary>
internal static class SchemaScripts
{
    public static string Postgres => Load("postgres.sql");

    public static string Sqlite => Load("sqlite.sql");

    private static string Load(string file)
    {
        var name = $"Xmbl.Cluster.Runtime.Sql.{file}";
        using var stream = typeof(SchemaScripts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded schema resource {name} is missing from {typeof(SchemaScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
