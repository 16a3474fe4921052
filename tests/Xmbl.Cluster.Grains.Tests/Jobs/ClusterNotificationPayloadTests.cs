using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>The payloads silos exchange over PostgreSQL NOTIFY: round trips, and garbage is ignored rather than trusted.</summary>
public sealed class ClusterNotificationPayloadTests
{
    [Fact]
    public void Dispatch_RoundTrips()
    {
        var dispatch = new JobDispatch("01a24851424f-96b7ee8af080", 3, "did:key:z6MkExample", JobRole.Validator, null);

        Assert.Equal(dispatch, PostgresAssignmentNotifier.Parse(PostgresAssignmentNotifier.Format(dispatch)));
    }

    [Fact]
    public void Load_RoundTrips()
    {
        Assert.Equal(("did:key:z6MkExample", 7), PostgresAssignmentNotifier.ParseLoad(PostgresAssignmentNotifier.FormatLoad("did:key:z6MkExample", 7)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("node")]
    [InlineData(" 3")]
    [InlineData("node -1")]
    [InlineData("node 99999999999999999999")]
    [InlineData("node 3 extra")]
    public void Load_Malformed_IsIgnored(string payload) => Assert.Null(PostgresAssignmentNotifier.ParseLoad(payload));

    [Theory]
    [InlineData("node not-a-job 1 0")]
    [InlineData("node 01a24851424f-96b7ee8af080 x 0")]
    [InlineData("node 01a24851424f-96b7ee8af080 1 9")]
    [InlineData("node 01a24851424f-96b7ee8af080 1")]
    public void Dispatch_Malformed_IsIgnored(string payload) => Assert.Null(PostgresAssignmentNotifier.Parse(payload));
}
