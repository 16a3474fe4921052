using FsCheck;
using FsCheck.Fluent;

namespace Xmbl.Cluster.Ledger.Tests;

[Trait("Suite", "BVT")]
public class BalanceTreeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(33)]
    [InlineData(1000)]
    public void Prove_EveryLeaf_VerifiesAgainstTheRoot_AlsoAfterARoundTripThroughBytes(int size)
    {
        var tree = BalanceTree.Build(Accounts(size));

        foreach (var leaf in tree.Leaves)
        {
            var proof = tree.Prove(leaf.Account);
            Assert.True(proof.Verify(tree.Root), $"leaf {proof.LeafIndex} of {size}");
            Assert.True(BalanceProof.Verify(proof.ToBytes(), tree.Root), $"leaf {proof.LeafIndex} of {size} as bytes");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(11)]
    public void Verify_AnyByteOfAnyProofChanged_Fails(int size)
    {
        var tree = BalanceTree.Build(Accounts(size));
        foreach (var leaf in tree.Leaves)
        {
            var bytes = tree.Prove(leaf.Account).ToBytes();
            for (var i = 0; i < bytes.Length; i++)
            {
                foreach (var flip in new byte[] { 0x01, 0x80, 0xFF })
                {
                    bytes[i] ^= flip;
                    Assert.False(BalanceProof.Verify(bytes, tree.Root), $"byte {i} ^ {flip:x2} of the proof of leaf {leaf.Account} in a tree of {size}");
                    bytes[i] ^= flip;
                }
            }
        }
    }

    [Fact]
    public void Verify_RandomTreeLeafByteAndChange_FailsWhateverIsChanged()
    {
        var cases =
            from size in Gen.Choose(1, 300)
            from leaf in Gen.Choose(0, size - 1)
            from position in Gen.Choose(0, int.MaxValue)
            from flip in Gen.Choose(1, 255)
            select (size, leaf, position, flip);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(cases), c =>
        {
            var tree = BalanceTree.Build(Accounts(c.size));
            var bytes = tree.Prove(tree.Leaves[c.leaf].Account).ToBytes();
            var ok = BalanceProof.Verify(bytes, tree.Root);
            bytes[c.position % bytes.Length] ^= (byte)c.flip;
            return ok && !BalanceProof.Verify(bytes, tree.Root);
        }));
    }

    [Fact]
    public void Verify_AgainstAnotherRoot_OrWithARootByteChanged_Fails()
    {
        var tree = BalanceTree.Build(Accounts(10));
        var other = BalanceTree.Build(Accounts(10).Select(l => l.Account == "did:key:acct-0003" ? l with { Balance = l.Balance + 1 } : l));
        var proof = tree.Prove("did:key:acct-0005");
        var root = tree.Root.ToArray();
        root[31] ^= 1;

        Assert.False(proof.Verify(other.Root));
        Assert.False(proof.Verify(root));
        Assert.False(proof.Verify(root.AsSpan(0, 31)));
    }

    [Fact]
    public void Root_DoesNotDependOnInputOrder_AndChangesWithAnyBalance()
    {
        var leaves = Accounts(50).ToArray();
        var tree = BalanceTree.Build(leaves);
        var shuffled = BalanceTree.Build(leaves.Reverse());
        var changed = BalanceTree.Build(leaves.Select((l, i) => i == 17 ? l with { Balance = l.Balance + 1 } : l));

        Assert.Equal(tree.RootHex, shuffled.RootHex);
        Assert.NotEqual(tree.RootHex, changed.RootHex);
    }

    [Fact]
    public void Root_KnownAnswer_MatchesTheDocumentedHashing()
    {
        // Computed independently from the README's layout (Python hashlib).
        var tree = BalanceTree.Build([new("did:key:alice", 5), new("did:key:carol", 0), new("did:key:bob", 1_000_000)]);
        var empty = BalanceTree.Build([]);

        Assert.Equal("5ced1742412c5227b40ace99f21be5ba803bbf13b0aac100fb023f2f6a739b35", tree.RootHex);
        Assert.Equal("f0c1e0b4cd1983b9c92909f8145cc102993e4c797489c0ba98639fd93056b82f", empty.RootHex);
        Assert.Equal(["did:key:alice", "did:key:bob", "did:key:carol"], tree.Leaves.Select(l => l.Account));
    }

    [Fact]
    public void Proof_OfALeafOfASmallerTree_DoesNotVerifyAgainstALargerTreeThatHoldsIt()
    {
        var small = BalanceTree.Build(Accounts(4));
        var large = BalanceTree.Build(Accounts(5));
        var proof = small.Prove("did:key:acct-0000");

        Assert.False(proof.Verify(large.Root));
        Assert.False((proof with { TreeSize = 5 }).Verify(large.Root));
    }

    [Fact]
    public void Build_RepeatedAccountOrNegativeBalanceOrEmptyAccount_Throws()
    {
        Assert.Throws<ArgumentException>(() => BalanceTree.Build([new("did:key:a", 1), new("did:key:a", 2)]));
        Assert.Throws<ArgumentException>(() => BalanceTree.Build([new("did:key:a", -1)]));
        Assert.Throws<ArgumentException>(() => BalanceTree.Build([new("", 1)]));
        Assert.Throws<ArgumentException>(() => BalanceTree.Build([new(new string('a', 256), 1)]));
        Assert.Throws<KeyNotFoundException>(() => BalanceTree.Build(Accounts(3)).Prove("did:key:nobody"));
    }

    [Fact]
    public void TryParse_TrailingOrMissingBytes_IsRefused()
    {
        var bytes = BalanceTree.Build(Accounts(7)).Prove("did:key:acct-0002").ToBytes();

        Assert.True(BalanceProof.TryParse(bytes, out _));
        Assert.False(BalanceProof.TryParse([.. bytes, 0], out _));
        Assert.False(BalanceProof.TryParse(bytes.AsSpan(0, bytes.Length - 1), out _));
        Assert.False(BalanceProof.TryParse([], out _));
    }

    private static IEnumerable<BalanceLeaf> Accounts(int count) =>
        Enumerable.Range(0, count).Select(i => new BalanceLeaf($"did:key:acct-{i:0000}", (long)i * 1_000_003 % 7_919_993));
}
