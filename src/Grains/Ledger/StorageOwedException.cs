using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>The account owes storage charges its balance does not cover; a new put is refused until it pays (nothing was stored).</summary>
public sealed class StorageOwedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="account">The account as it stands.</param>
    public StorageOwedException(AccountSnapshot account)
        : base($"Account {account?.Account} owes {Xmbl.Cluster.Ledger.Credits.Format(account?.StorageOwed ?? 0)} xmbl.c for storage and its balance is {Xmbl.Cluster.Ledger.Credits.Format(account?.Balance ?? 0)} xmbl.c; fund it to store more (the next put pays what is owed). Nothing was stored.")
    {
        ArgumentNullException.ThrowIfNull(account);
        Account = account;
    }

    /// <summary>The account.</summary>
    public AccountSnapshot Account { get; }
}
