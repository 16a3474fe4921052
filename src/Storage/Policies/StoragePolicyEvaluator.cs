using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Policies;

/// <summary>Decides whether a storage operation may go ahead: allow, deny with a reason (403) or too large (413).</summary>
/// <remarks>
/// Checks, in order: the namespace has a policy; the operation is allowed there; the caller may reach the namespace
/// at its access level; for writes, the content type and file extension; the declared size against the namespace's
/// and the global maximum; the namespace's and the account's quota. Unknown namespaces are denied: register a policy
/// when a task, a service or a mesh-global namespace is created. The evaluator is pure (usage figures come in the
/// request), so the gateway can call it on every request.
/// </remarks>
public sealed class StoragePolicyEvaluator
{
    private readonly StoragePolicyOptions _policies;
    private readonly long _globalMax;
    private readonly Dictionary<string, long> _accountQuotas;

    /// <summary>Creates an evaluator over <paramref name="policies"/>; <paramref name="storage"/> supplies the global size limit when the policies set none.</summary>
    public StoragePolicyEvaluator(StoragePolicyOptions policies, StorageOptions? storage = null)
    {
        _policies = policies ?? throw new ArgumentNullException(nameof(policies));
        _globalMax = policies.MaxObjectSize > 0 ? policies.MaxObjectSize : (storage ?? new StorageOptions()).MaxObjectSize;
        _accountQuotas = policies.AccountQuotas.ToDictionary(q => q.Account, q => q.QuotaBytes, StringComparer.Ordinal);
    }

    /// <summary>The policy that governs <paramref name="namespace"/>: an exact entry, else the longest matching pattern; null when none.</summary>
    public NamespacePolicy? FindPolicy(string @namespace)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        NamespacePolicy? best = null;
        foreach (var p in _policies.Namespaces)
        {
            if (!p.Matches(@namespace))
            {
                continue;
            }

            if (!p.Namespace.EndsWith('*'))
            {
                return p;
            }

            if (best is null || p.Namespace.Length > best.Namespace.Length)
            {
                best = p;
            }
        }

        return best;
    }

    /// <summary>Decides on <paramref name="request"/>.</summary>
    public PolicyDecision Evaluate(StorageAccessRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var op = request.Operation;
        if (op == ObjectOperations.None)
        {
            return PolicyDecision.Deny("No operation was named.");
        }

        var policy = FindPolicy(request.Namespace);
        if (policy is null)
        {
            return PolicyDecision.Deny($"Namespace '{request.Namespace}' has no storage policy.");
        }

        if ((policy.AllowedOperations & op) != op)
        {
            return PolicyDecision.Deny($"{op} is not allowed in namespace '{request.Namespace}' (allowed: {policy.AllowedOperations}).");
        }

        if (!HasAccess(request.Principal, policy, request.Namespace, op))
        {
            return PolicyDecision.Deny($"Account '{request.Principal.Account}' may not {op} in {Describe(policy.AccessLevel)} namespace '{request.Namespace}'.");
        }

        if ((op & ObjectOperations.Write) == 0)
        {
            return new PolicyDecision(PolicyOutcome.Allow, "") { Coding = policy.Coding };
        }

        if (policy.AllowedContentTypes.Count > 0 && !ContentTypeAllowed(request.ContentType, policy.AllowedContentTypes))
        {
            return PolicyDecision.Deny($"Content type '{request.ContentType ?? "(none)"}' is not allowed in namespace '{request.Namespace}' (allowed: {string.Join(", ", policy.AllowedContentTypes)}).");
        }

        if (policy.AllowedExtensions.Count > 0)
        {
            var extension = Path.GetExtension(request.Name);
            if (!policy.AllowedExtensions.Any(e => string.Equals(e, extension, StringComparison.OrdinalIgnoreCase)))
            {
                return PolicyDecision.Deny($"File type '{(extension.Length == 0 ? "(no extension)" : extension)}' is not allowed in namespace '{request.Namespace}' (allowed: {string.Join(", ", policy.AllowedExtensions)}).");
            }
        }

        var maxSize = Math.Min(_globalMax, policy.MaxObjectSize ?? long.MaxValue);
        if (request.Size > maxSize)
        {
            return new PolicyDecision(PolicyOutcome.TooLarge, $"The object is {request.Size} bytes; the limit in namespace '{request.Namespace}' is {maxSize}.") { MaxObjectSize = maxSize };
        }

        // Room under each quota; the replaced object's bytes come free when the write commits.
        var room = long.MaxValue;
        if (policy.QuotaBytes is { } nsQuota)
        {
            var free = nsQuota - request.NamespaceUsedBytes + request.ReplacedSize;
            if (request.Size > free || free <= 0)
            {
                return PolicyDecision.Deny($"Namespace '{request.Namespace}' quota of {nsQuota} bytes would be exceeded ({request.NamespaceUsedBytes} used).");
            }

            room = Math.Min(room, free);
        }

        var accountQuota = _accountQuotas.TryGetValue(request.Principal.Account, out var q) ? q : _policies.DefaultAccountQuotaBytes;
        if (accountQuota > 0)
        {
            var free = accountQuota - request.AccountUsedBytes + request.ReplacedSize;
            if (request.Size > free || free <= 0)
            {
                return PolicyDecision.Deny($"Account '{request.Principal.Account}' quota of {accountQuota} bytes would be exceeded ({request.AccountUsedBytes} used).");
            }

            room = Math.Min(room, free);
        }

        return new PolicyDecision(PolicyOutcome.Allow, "") { MaxObjectSize = Math.Min(maxSize, room), Coding = policy.Coding };
    }

    private static bool HasAccess(StoragePrincipal principal, NamespacePolicy policy, string @namespace, ObjectOperations op)
    {
        if (policy.OwnerAccount is not null && string.Equals(principal.Account, policy.OwnerAccount, StringComparison.Ordinal))
        {
            return true;
        }

        // A pattern without an owner (task-*, svc-*) is owned, namespace by namespace, by what the '*' stands for.
        var owner = policy.Owner ?? (policy.Namespace.EndsWith('*') ? @namespace[(policy.Namespace.Length - 1)..] : null);
        return policy.AccessLevel switch
        {
            AccessLevel.TaskIsolated => owner is not null && string.Equals(principal.TaskId, owner, StringComparison.Ordinal),
            AccessLevel.ServiceShared => owner is not null && string.Equals(principal.ServiceId, owner, StringComparison.Ordinal),
            AccessLevel.MeshGlobal => policy.Grants.Any(g =>
                (g.Account == "*" || string.Equals(g.Account, principal.Account, StringComparison.Ordinal)) && (g.Operations & op) == op),
            _ => false,
        };
    }

    private static bool ContentTypeAllowed(string? contentType, IReadOnlyList<string> allowed)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var type = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        foreach (var a in allowed)
        {
            if (a.EndsWith("/*", StringComparison.Ordinal)
                ? type.StartsWith(a.AsSpan(0, a.Length - 1), StringComparison.OrdinalIgnoreCase)
                : string.Equals(type, a, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(AccessLevel level) => level switch
    {
        AccessLevel.TaskIsolated => "task-isolated",
        AccessLevel.ServiceShared => "service-shared",
        _ => "mesh-global",
    };
}
