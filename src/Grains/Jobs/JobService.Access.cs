using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Who may act on a job: the rules the REST endpoints and the gRPC services share.</summary>
public sealed partial class JobService
{
    /// <summary>Cancels the job for <paramref name="account"/>, which must be its submitter.</summary>
    /// <param name="id">The job id.</param>
    /// <param name="account">The account asking (the caller's).</param>
    /// <param name="reason">Why; null for the default.</param>
    /// <returns>The job after cancelling.</returns>
    /// <exception cref="RequestRefusedException">No such job (not found), or <paramref name="account"/> did not submit it (forbidden).</exception>
    public async Task<JobRecord> CancelAsync(string id, string account, string? reason)
    {
        var current = await GetAsync(id) ?? throw RequestRefusedException.NotFound($"No job {id}.");
        if (!string.Equals(current.Spec.Submitter, account, StringComparison.Ordinal))
        {
            throw RequestRefusedException.Forbidden($"Job {id} was submitted by {current.Spec.Submitter ?? "no account"}; only its submitter may cancel it (the request was made by {account}).");
        }

        return await CancelAsync(id, reason) ?? throw RequestRefusedException.NotFound($"No job {id}.");
    }

    /// <summary>Reads a job-status filter as the API names statuses (case-insensitive); null is no filter.</summary>
    /// <exception cref="RequestRefusedException">An unknown status (field <c>status</c>).</exception>
    public static JobStatus? ParseStatus(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return Enum.TryParse<JobStatus>(text, ignoreCase: true, out var status) && Enum.IsDefined(status)
            ? status
            : throw RequestRefusedException.Invalid("status", $"Unknown status '{text}'; use one of {string.Join(", ", Enum.GetNames<JobStatus>()).ToLowerInvariant()}.");
    }
}
