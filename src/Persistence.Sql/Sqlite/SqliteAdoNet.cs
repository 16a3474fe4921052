using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>Using SQLite with Orleans' AdoNet providers.</summary>
/// <remarks>
/// The 10.4.2 providers accept SQLite only under the invariant name <see cref="Invariant"/> (their constants table has
/// no <c>Microsoft.Data.Sqlite</c> entry, which throws at start) and open it through <c>Microsoft.Data.Sqlite</c>.
/// </remarks>
public static class SqliteAdoNet
{
    /// <summary>The invariant name to give the providers' options.</summary>
    public const string Invariant = "System.Data.SQLite";

    /// <summary>
    /// Registers <c>Microsoft.Data.Sqlite</c>'s factory under <see cref="Invariant"/> in <see cref="DbProviderFactories"/>,
    /// for code that resolves providers by invariant name. Idempotent.
    /// </summary>
    public static void RegisterProviderFactory() => DbProviderFactories.RegisterFactory(Invariant, SqliteFactory.Instance);
}
