using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Who may read, list and delete objects: the rules the REST endpoints and the gRPC services share.</summary>
public sealed partial class ObjectService
{
    /// <summary>
    /// The visible version of an object, for <paramref name="account"/>: the namespace's policy decides who reads, and
    /// an object's owner always reads it (a private namespace's objects need their owner's signature).
    /// </summary>
    /// <param name="key">The object.</param>
    /// <param name="account">The account reading (<see cref="AnonymousAccount"/> for unsigned reads).</param>
    /// <returns>The version.</returns>
    /// <exception cref="ObjectPolicyException">The policy refuses the read and the account does not own the object.</exception>
    /// <exception cref="RequestRefusedException">No such object (not found), when the policy lets the account read.</exception>
    public async Task<StoredObject> GetReadableAsync(ObjectKey key, string account)
    {
        ObjectPolicyException? refused = null;
        try
        {
            Authorize(key.Namespace, key.Name, account, ObjectOperations.Read);
        }
        catch (ObjectPolicyException ex)
        {
            refused = ex;
        }

        // Read even when refused: the owner may read. A refused caller learns nothing about whether the object exists.
        var version = await GetAsync(key);
        if (refused is not null && (version is null || !string.Equals(version.Owner, account, StringComparison.Ordinal)))
        {
            throw refused;
        }

        return version ?? throw RequestRefusedException.NotFound($"No object {key}.");
    }

    /// <summary>Deletes an object for <paramref name="account"/>, which the namespace's policy must allow and which must own it.</summary>
    /// <param name="key">The object.</param>
    /// <param name="account">The account asking.</param>
    /// <param name="cancellationToken">Cancels reclaiming the shards.</param>
    /// <returns>The removed version.</returns>
    /// <exception cref="ObjectPolicyException">The policy refuses deletes for the account.</exception>
    /// <exception cref="RequestRefusedException">No such object (not found), or another account owns it (forbidden).</exception>
    public async Task<StoredObject> DeleteAsync(ObjectKey key, string account, CancellationToken cancellationToken)
    {
        Authorize(key.Namespace, key.Name, account, ObjectOperations.Delete);
        var version = await GetAsync(key) ?? throw RequestRefusedException.NotFound($"No object {key}.");
        if (!string.Equals(version.Owner, account, StringComparison.Ordinal))
        {
            throw RequestRefusedException.Forbidden($"Object {key} belongs to {version.Owner}; only its owner may delete it (the request was made by {account}).");
        }

        return await DeleteAsync(key, cancellationToken) ?? throw RequestRefusedException.NotFound($"No object {key}.");
    }

    /// <summary>A page of a namespace's listing for <paramref name="account"/>, whom the namespace's policy must let list.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="account">The account asking.</param>
    /// <param name="prefix">Only names starting with this; null for all.</param>
    /// <param name="after">The previous page's last name; null for the first page.</param>
    /// <param name="limit">The page size (the caller applied the paging rules).</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The page and the cursor of the next one (the last name), null at the end.</returns>
    /// <exception cref="RequestRefusedException">The namespace is not valid (field <c>namespace</c>).</exception>
    /// <exception cref="ObjectPolicyException">The policy refuses listing for the account.</exception>
    public async Task<(IReadOnlyList<StoredObject> Items, string? Next)> ListAsync(string @namespace, string account, string? prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        if (!ObjectKey.IsValidNamespace(@namespace))
        {
            throw RequestRefusedException.Invalid("namespace", $"Namespace '{@namespace}' is not valid.");
        }

        Authorize(@namespace, null, account, ObjectOperations.List);
        var items = await ListAsync(@namespace, prefix, after, limit, cancellationToken);
        return (items, items.Count == limit ? items[^1].Manifest.Name : null);
    }
}
