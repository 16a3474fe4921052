using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Grains.Options;

/// <summary>Checks <see cref="NodeOptions"/> at startup; each message names the key and the fix.</summary>
public sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    /// <summary>The most logical nodes one silo may host.</summary>
    public const int MaxCount = 256;

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Count is < 1 or > MaxCount)
        {
            errors.Add($"Xmbl:Node:Count (--nodes) is {options.Count}; use 1 to {MaxCount}.");
        }

        if (options.Cores is < 1)
        {
            errors.Add($"Xmbl:Node:Cores (--cpu) is {options.Cores}; offer at least one core.");
        }

        if (options.Memory is not null && !ByteSize.TryParse(options.Memory, out _))
        {
            errors.Add($"Xmbl:Node:Memory (--memory) '{options.Memory}' is not a size; write e.g. 8GB.");
        }

        if (options.Storage is not null && !ByteSize.TryParse(options.Storage, out _))
        {
            errors.Add($"Xmbl:Node:Storage (--storage) '{options.Storage}' is not a size; write e.g. 10GB.");
        }

        if (options.PricePerMillionFuel < 0 || options.PricePerGbMonth < 0)
        {
            errors.Add("Xmbl:Node:PricePerMillionFuel (--price) and Xmbl:Node:PricePerGbMonth (--storage-price) cannot be negative.");
        }

        if (options.Concurrency is < 1)
        {
            errors.Add($"Xmbl:Node:Concurrency is {options.Concurrency}; allow at least one job at a time.");
        }

        if (options.HeartbeatPeriod <= TimeSpan.Zero || options.DeathTimeout <= options.HeartbeatPeriod)
        {
            errors.Add($"Xmbl:Node:DeathTimeout ({options.DeathTimeout}) must be longer than Xmbl:Node:HeartbeatPeriod ({options.HeartbeatPeriod}), which must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
