using Xmbl.Cluster.Persistence.Sql.Migrations;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

[Trait("Suite", "BVT")]
public sealed class SchemaScriptsTests
{
    [Theory]
    [InlineData(SqlDialect.PostgreSql, 5)]
    [InlineData(SqlDialect.Sqlite, 4)]
    public void Scripts_are_embedded_numbered_without_gaps_and_hashed(SqlDialect dialect, int count)
    {
        var scripts = SchemaScripts.For(dialect);
        Assert.Equal(count, scripts.Count);
        Assert.Equal(Enumerable.Range(1, count), scripts.Select(s => s.Version));
        Assert.Equal(count, SchemaScripts.LatestVersion(dialect));
        Assert.All(scripts, s =>
        {
            Assert.Matches("^[0-9a-f]{64}$", s.Sha256);
            Assert.DoesNotContain('\r', s.Text);
            Assert.True(File.Exists(Path.Combine(RepositoryRoot(), "deploy", "sql", dialect == SqlDialect.PostgreSql ? "postgresql" : "sqlite", s.FileName)), s.FileName);
        });
    }

    [Theory]
    [InlineData(SqlDialect.PostgreSql)]
    [InlineData(SqlDialect.Sqlite)]
    public void Every_query_key_the_providers_require_is_in_the_scripts(SqlDialect dialect)
    {
        // The keys the 10.4.2 providers look up (their DbStoredQueries / initialization query).
        string[] persistence = ["WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey"];
        string[] reminders = ["UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "DeleteReminderRowKey", "DeleteReminderRowsKey"];
        string[] clustering = ["InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey", "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey"];
        var text = string.Concat(SchemaScripts.For(dialect).Select(s => s.Text));
        var required = dialect == SqlDialect.PostgreSql ? [.. persistence, .. reminders, .. clustering] : persistence.Concat(reminders);
        Assert.All(required, key => Assert.Contains($"('{key}',", text, StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Xmbl.Cluster.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Xmbl.Cluster.sln not found above the test's directory.");
    }
}
