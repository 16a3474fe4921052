using FsCheck;
using FsCheck.Fluent;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Identity.Tests;

[Trait("Suite", "BVT")]
public class ReplayGuardTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    [Fact]
    public void TryAccept_APairTwice_AcceptsOnce()
    {
        var guard = new ReplayGuard(10, Window);

        Assert.Equal(ReplayOutcome.Accepted, guard.TryAccept("did:a", "n1", 1000, 1000));
        Assert.Equal(ReplayOutcome.Replayed, guard.TryAccept("did:a", "n1", 1000, 1000));
        Assert.Equal(ReplayOutcome.Accepted, guard.TryAccept("did:b", "n1", 1000, 1000));
    }

    [Fact]
    public void TryAccept_WhenFull_ForgetsTheOldest_AndRefusesAnythingAsOldFromThenOn()
    {
        var guard = new ReplayGuard(3, Window);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(ReplayOutcome.Accepted, guard.TryAccept("did:a", $"n{i}", i * 10, 100));
        }

        Assert.Equal(ReplayOutcome.Accepted, guard.TryAccept("did:a", "n4", 40, 100));

        Assert.Equal(3, guard.Count);
        // n1 (timestamp 10) was forgotten, so timestamps up to 10 are refused: its replay cannot pass.
        Assert.Equal(ReplayOutcome.BelowFloor, guard.TryAccept("did:a", "n1", 10, 100));
        Assert.Equal(ReplayOutcome.BelowFloor, guard.TryAccept("did:a", "fresh", 5, 100));
        Assert.Equal(ReplayOutcome.Replayed, guard.TryAccept("did:a", "n2", 20, 100));
    }

    [Fact]
    public void TryAccept_PairsOlderThanTheWindow_AreDropped()
    {
        var guard = new ReplayGuard(100, Window);
        guard.TryAccept("did:a", "n1", 0, 0);
        guard.TryAccept("did:a", "n2", 1000, 1000);

        guard.TryAccept("did:a", "n3", 300_500, 300_500);

        Assert.Equal(2, guard.Count);
    }

    [Fact]
    public void TryAccept_AnySequence_NeverAcceptsAPairTwice_AndNeverHoldsMoreThanItsCapacity()
    {
        var step =
            from nonce in Gen.Choose(0, 40)
            from timestamp in Gen.Choose(0, 400)
            from advance in Gen.Choose(0, 20)
            select (nonce, timestamp, advance);
        var scenario =
            from capacity in Gen.Choose(1, 12)
            from steps in Gen.ListOf(step)
            select (capacity, steps);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(scenario), s =>
        {
            var guard = new ReplayGuard(s.capacity, TimeSpan.FromMilliseconds(100));
            var accepted = new HashSet<string>(StringComparer.Ordinal);
            long now = 0;
            foreach (var (nonce, timestamp, advance) in s.steps)
            {
                now += advance;
                var outcome = guard.TryAccept("did:a", nonce.ToString(System.Globalization.CultureInfo.InvariantCulture), timestamp, now);
                // A pair stamped inside the window is never accepted twice; outside it the verifier refuses it first.
                if (outcome == ReplayOutcome.Accepted && !accepted.Add($"{nonce}@{timestamp}") && timestamp >= now - 100)
                {
                    return false;
                }

                if (guard.Count > s.capacity)
                {
                    return false;
                }
            }

            return true;
        }));
    }
}
