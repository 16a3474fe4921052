namespace Xmbl.Cluster.Grains;

/// <summary>
/// The names grain state is stored under (<c>[PersistentState(name)]</c>); listings read stored state by these names
/// (<see cref="Persistence.Sql.IGrainStateQuery"/>), so they are part of the storage format: never rename one.
/// </summary>
public static class GrainStates
{
    /// <summary>The default grain storage's name.</summary>
    public const string Storage = "xmbl";

    /// <summary><c>INodeGrain</c>: a node's registration and last heartbeat.</summary>
    public const string Node = "node";

    /// <summary><c>IJobGrain</c>: a job's state machine.</summary>
    public const string Job = "job";

    /// <summary><c>IModuleGrain</c>: an uploaded module's record.</summary>
    public const string Module = "module";

    /// <summary><c>INodeReputationGrain</c>: a node's reputation.</summary>
    public const string Reputation = "reputation";

    /// <summary><c>IObjectGrain</c>: an object's visible manifest.</summary>
    public const string Object = "object";

    /// <summary><c>IStorageUsageGrain</c>: an account's or namespace's stored bytes.</summary>
    public const string Usage = "usage";

    /// <summary><c>IOutputNameGrain</c>: the counter of unique output names.</summary>
    public const string OutputName = "output-name";

    /// <summary><c>IAccountGrain</c>: an account's balance, nonces, undelivered credits and latest history.</summary>
    public const string Account = "account";

    /// <summary><c>IAccountHistoryPageGrain</c>: a sealed page of an account's history.</summary>
    public const string AccountHistory = "account-history";

    /// <summary><c>ILedgerEpochsGrain</c>: the last sealed epoch.</summary>
    public const string LedgerEpochs = "ledger-epochs";

    /// <summary><c>ILedgerEpochGrain</c>: one epoch's record.</summary>
    public const string LedgerEpoch = "ledger-epoch";

    /// <summary><c>ILedgerEpochGrain</c>: the balances one epoch's root is over.</summary>
    public const string LedgerEpochBalances = "ledger-epoch-balances";

    /// <summary><c>IStorageChargesGrain</c>: the storage charging periods.</summary>
    public const string StorageCharges = "storage-charges";

    /// <summary><c>IServicePackageGrain</c>: a published service version's library entry.</summary>
    public const string ServicePackage = "service-package";

    /// <summary><c>IServiceCatalogGrain</c>: the index of every published service version.</summary>
    public const string ServiceCatalog = "service-catalog";

    /// <summary><c>IPublisherGrain</c>: a publisher's packages and endorsements.</summary>
    public const string Publisher = "publisher";

    /// <summary><c>ITaskGrain</c>: one task: request, fitness answers, job, outputs, deliveries, acknowledgement.</summary>
    public const string Task = "task";
}
