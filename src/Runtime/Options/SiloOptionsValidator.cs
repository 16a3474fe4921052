using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Runtime.Options;

/// <summary>Validates <see cref="SiloOptions"/> at startup; messages name the configuration key and the fix.</summary>
internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options)
    {
        var failures = new List<string>();
        const string S = SiloOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.SiloId) || options.SiloId.Length > 200)
        {
            failures.Add($"{S}:SiloId must be 1 to 200 characters; leave it unset to generate a unique one per process.");
        }

        if (options.Address is null || options.Address.Length > 200)
        {
            failures.Add($"{S}:Address must be at most 200 characters, e.g. '10.0.0.5:11111'.");
        }

        if (options.HeartbeatPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{S}:HeartbeatPeriod must be positive (default {SiloOptions.DefaultHeartbeatPeriod}).");
        }

        if (options.DeathTimeout <= options.HeartbeatPeriod)
        {
            failures.Add($"{S}:DeathTimeout ({options.DeathTimeout}) must be longer than {S}:HeartbeatPeriod ({options.HeartbeatPeriod}), " +
                "otherwise live silos are declared dead; several heartbeat periods is usual (default 10s vs 2s).");
        }

        if (options.ReminderPollPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{S}:ReminderPollPeriod must be positive (default {SiloOptions.DefaultReminderPollPeriod}).");
        }

        if (options.ReminderConcurrency < 1)
        {
            failures.Add($"{S}:ReminderConcurrency must be at least 1 (default 16).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
