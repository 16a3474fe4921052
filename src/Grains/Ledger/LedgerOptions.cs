using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>The ledger: section <c>Xmbl:Ledger</c>. Amounts are in micro-xmbl.c (1 xmbl.c = 1,000,000).</summary>
public sealed class LedgerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Ledger";

    /// <summary>The treasury's did:key: the only account that may mint. None when unset (nobody mints).</summary>
    public string? Treasury { get; set; }

    /// <summary>The default <see cref="DeliveryRetryPeriod"/>.</summary>
    public static readonly TimeSpan DefaultDeliveryRetryPeriod = TimeSpan.FromMinutes(1);

    /// <summary>How often an account retries credits its receivers have not acknowledged (after a crash or failure).</summary>
    public TimeSpan DeliveryRetryPeriod { get; set; } = DefaultDeliveryRetryPeriod;

    /// <summary>The faucet.</summary>
    public FaucetOptions Faucet { get; set; } = new();

    /// <summary>The default <see cref="EscrowCheckAfter"/>.</summary>
    public static readonly TimeSpan DefaultEscrowCheckAfter = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How old a job's hold is before the submitter's account asks the job, at each retry period, to settle it: a
    /// settlement lost to a crash is made then, and a hold whose job was never created is refunded.
    /// </summary>
    public TimeSpan EscrowCheckAfter { get; set; } = DefaultEscrowCheckAfter;

    /// <summary>The default <see cref="EpochInterval"/>.</summary>
    public static readonly TimeSpan DefaultEpochInterval = TimeSpan.FromHours(1);

    /// <summary>How often an epoch seals a Merkle root over all balances.</summary>
    public TimeSpan EpochInterval { get; set; } = DefaultEpochInterval;

    /// <summary>Storage charging.</summary>
    public StorageChargeOptions Storage { get; set; } = new();
}

/// <summary>Storage charging (<c>Xmbl:Ledger:Storage</c>): object owners pay node operators per GB-month (docs/ledger.md).</summary>
public sealed class StorageChargeOptions
{
    /// <summary>The default <see cref="Interval"/>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromHours(1);

    /// <summary>Whether storage is charged; unset means on in cluster mode, off in embedded mode (one user, a faucet). The same on every silo of a cluster.</summary>
    public bool? Enabled { get; set; }

    /// <summary>How often a charging period ends and is charged.</summary>
    public TimeSpan Interval { get; set; } = DefaultInterval;
}

/// <summary>The faucet (<c>Xmbl:Ledger:Faucet</c>): free credits for development clusters.</summary>
public sealed class FaucetOptions
{
    /// <summary>Default <see cref="MaxPerRequest"/>: 1,000 xmbl.c (five holds of a job with the default limits and one validator).</summary>
    public const long DefaultMaxPerRequest = 1_000_000_000;

    /// <summary>Default <see cref="MaxPerWindow"/>: 10,000 xmbl.c.</summary>
    public const long DefaultMaxPerWindow = 10_000_000_000;

    /// <summary>Default <see cref="Window"/>: a day.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    /// <summary>Whether <c>POST /api/faucet</c> works; unset means on in embedded mode, off in cluster mode.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The most micro-xmbl.c one request gets.</summary>
    public long MaxPerRequest { get; set; } = DefaultMaxPerRequest;

    /// <summary>The most micro-xmbl.c one account gets per <see cref="Window"/>.</summary>
    public long MaxPerWindow { get; set; } = DefaultMaxPerWindow;

    /// <summary>The window of <see cref="MaxPerWindow"/>, from the account's first faucet request in it.</summary>
    public TimeSpan Window { get; set; } = DefaultWindow;

    /// <summary>The limits as the account grain applies them.</summary>
    public FaucetLimits Limits => new(MaxPerRequest, MaxPerWindow, Window);
}

/// <summary>Checks <see cref="LedgerOptions"/> at start; a bad value stops the silo naming the key.</summary>
internal sealed class LedgerOptionsValidator : IValidateOptions<LedgerOptions>
{
    public ValidateOptionsResult Validate(string? name, LedgerOptions options)
    {
        var failures = new List<string>();
        if (options.Treasury is not null && !PublicIdentity.TryParseDid(options.Treasury, out _))
        {
            failures.Add($"{LedgerOptions.SectionName}:{nameof(LedgerOptions.Treasury)} ('{options.Treasury}') is not the did:key of a valid Ed25519 key.");
        }

        if (options.DeliveryRetryPeriod < TimeSpan.FromSeconds(1) || options.DeliveryRetryPeriod > TimeSpan.FromHours(1))
        {
            failures.Add($"{LedgerOptions.SectionName}:{nameof(LedgerOptions.DeliveryRetryPeriod)} must be from 1 second to 1 hour (got {options.DeliveryRetryPeriod}).");
        }

        if (options.EscrowCheckAfter < TimeSpan.FromSeconds(1) || options.EscrowCheckAfter > TimeSpan.FromDays(1))
        {
            failures.Add($"{LedgerOptions.SectionName}:{nameof(LedgerOptions.EscrowCheckAfter)} must be from 1 second to 1 day (got {options.EscrowCheckAfter}).");
        }

        if (options.EpochInterval < TimeSpan.FromMinutes(1) || options.EpochInterval > TimeSpan.FromDays(7))
        {
            failures.Add($"{LedgerOptions.SectionName}:{nameof(LedgerOptions.EpochInterval)} must be from 1 minute to 7 days (got {options.EpochInterval}).");
        }

        if (options.Storage.Interval < TimeSpan.FromMinutes(1) || options.Storage.Interval > TimeSpan.FromDays(31))
        {
            failures.Add($"{LedgerOptions.SectionName}:Storage:{nameof(StorageChargeOptions.Interval)} must be from 1 minute to 31 days (got {options.Storage.Interval}).");
        }

        var faucet = options.Faucet;
        const string prefix = LedgerOptions.SectionName + ":Faucet:";
        if (faucet.MaxPerRequest < 1)
        {
            failures.Add($"{prefix}{nameof(FaucetOptions.MaxPerRequest)} must be at least 1 micro-xmbl.c (got {faucet.MaxPerRequest}).");
        }

        if (faucet.MaxPerWindow < faucet.MaxPerRequest)
        {
            failures.Add($"{prefix}{nameof(FaucetOptions.MaxPerWindow)} ({faucet.MaxPerWindow}) must be at least {prefix}{nameof(FaucetOptions.MaxPerRequest)} ({faucet.MaxPerRequest}).");
        }

        if (faucet.Window < TimeSpan.FromSeconds(1) || faucet.Window > TimeSpan.FromDays(366))
        {
            failures.Add($"{prefix}{nameof(FaucetOptions.Window)} must be from 1 second to 366 days (got {faucet.Window}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
