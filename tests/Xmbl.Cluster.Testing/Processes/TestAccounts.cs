using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Testing.Processes;

/// <summary>
/// Named test accounts with fixed keys (derived from the name), so that a fixture can name an account's did:key in a
/// silo's configuration before the silo starts.
/// </summary>
public static class TestAccounts
{
    private static readonly ConcurrentDictionary<string, Ed25519KeyPair> Keys = new(StringComparer.Ordinal);

    /// <summary>The account most tests act as.</summary>
    public const string User = "user";

    /// <summary>The key of the account called <paramref name="name"/>.</summary>
    public static Ed25519KeyPair Key(string name) =>
        Keys.GetOrAdd(name, static n => Ed25519KeyPair.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("xmbl integration test account " + n))));

    /// <summary>The did:key of the account called <paramref name="name"/>.</summary>
    public static string Did(string name) => Key(name).PublicKey.Did;
}
