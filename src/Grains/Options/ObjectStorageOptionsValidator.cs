using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Grains.Options;

/// <summary>Checks <see cref="ObjectStorageOptions"/> at startup; each message names the key and the fix.</summary>
public sealed class ObjectStorageOptionsValidator : IValidateOptions<ObjectStorageOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ObjectStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string S = ObjectStorageOptions.SectionName;
        if (options.RepairPeriod < TimeSpan.Zero)
        {
            failures.Add($"{S}:RepairPeriod is {options.RepairPeriod}; set it to a positive duration such as 00:05:00, or 00:00:00 to turn the reminder off.");
        }

        if (options.OrphanGracePeriod <= TimeSpan.Zero)
        {
            failures.Add($"{S}:OrphanGracePeriod is {options.OrphanGracePeriod}; set it to a positive duration much longer than the longest object write, such as 01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
