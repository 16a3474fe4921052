using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

[CollectionDefinition("Postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
