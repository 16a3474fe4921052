using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Storage.Options;

/// <summary>Checks <see cref="StorageOptions"/> at startup; each message names the key and the fix.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string S = StorageOptions.SectionName;
        if (!Transport.ShardNodeRegistry.IsValidNodeId(options.NodeId))
        {
            failures.Add($"{S}:NodeId '{options.NodeId}' is not a valid node id; use 1-200 characters of [A-Za-z0-9._:-].");
        }

        if (options.DataShards < 1)
        {
            failures.Add($"{S}:DataShards is {options.DataShards}; set it to 1 or more (default {StorageOptions.DefaultDataShards}).");
        }

        if (options.ParityShards < 1)
        {
            failures.Add($"{S}:ParityShards is {options.ParityShards}; set it to 1 or more (default {StorageOptions.DefaultParityShards}).");
        }

        if (options.DataShards + options.ParityShards > StorageOptions.MaxTotalShards)
        {
            failures.Add($"{S}:DataShards + {S}:ParityShards is {options.DataShards + options.ParityShards}; the codec supports at most {StorageOptions.MaxTotalShards}.");
        }

        if (options.ShardSize is < StorageOptions.MinShardSize or > StorageOptions.MaxShardSize)
        {
            failures.Add($"{S}:ShardSize is {options.ShardSize}; set it between {StorageOptions.MinShardSize} and {StorageOptions.MaxShardSize} bytes (default {StorageOptions.DefaultShardSize}).");
        }

        if (options.MaxObjectSize < 0)
        {
            failures.Add($"{S}:MaxObjectSize is {options.MaxObjectSize}; set it to 0 or more bytes (default {StorageOptions.DefaultMaxObjectSize}).");
        }

        if (options.StripesInFlight < 2)
        {
            failures.Add($"{S}:StripesInFlight is {options.StripesInFlight}; set it to 2 or more so reading and writing overlap (default {StorageOptions.DefaultStripesInFlight}).");
        }

        if (options.ShardTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:ShardTimeout is {options.ShardTimeout}; set it to a positive duration such as 00:00:30.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Volumes.Count; i++)
        {
            var v = options.Volumes[i];
            if (string.IsNullOrWhiteSpace(v.Name))
            {
                failures.Add($"{S}:Volumes:{i}:Name is empty; give each volume a unique name.");
            }
            else if (!names.Add(v.Name))
            {
                failures.Add($"{S}:Volumes:{i}:Name '{v.Name}' is used twice; volume names must be unique.");
            }

            if (string.IsNullOrWhiteSpace(v.Path))
            {
                failures.Add($"{S}:Volumes:{i}:Path is empty; set it to the directory that holds the volume's shards.");
            }

            if (v.CapacityBytes < 0)
            {
                failures.Add($"{S}:Volumes:{i}:CapacityBytes is {v.CapacityBytes}; use 0 (file system free space) or a positive byte count.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
