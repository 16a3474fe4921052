using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>Tests in this collection share one throwaway PostgreSQL server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Postgres";
}
