using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>The submitter's balance is below the job's hold; nothing was held or queued.</summary>
public sealed class InsufficientFundsException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="account">The submitter's account as it stands.</param>
    /// <param name="hold">What the job would hold, in micro-xmbl.c.</param>
    public InsufficientFundsException(AccountSnapshot account, long hold)
        : base($"The balance of {account?.Account} is {Xmbl.Cluster.Ledger.Credits.Format(account?.Balance ?? 0)} xmbl.c; the job holds {Xmbl.Cluster.Ledger.Credits.Format(hold)} xmbl.c (its maximum price) until it settles. Nothing was queued.")
    {
        ArgumentNullException.ThrowIfNull(account);
        Account = account;
        Hold = hold;
    }

    /// <summary>The submitter's account.</summary>
    public AccountSnapshot Account { get; }

    /// <summary>What the job would hold, in micro-xmbl.c.</summary>
    public long Hold { get; }
}
