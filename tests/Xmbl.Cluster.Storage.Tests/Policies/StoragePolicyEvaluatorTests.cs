using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Storage.Tests.Policies;

public sealed class StoragePolicyEvaluatorTests
{
    private const string Alice = "did:key:z6MkAlice";
    private const string Bob = "did:key:z6MkBob";
    private const string Carol = "did:key:z6MkCarol";

    private static StoragePolicyEvaluator Evaluator(Action<StoragePolicyOptions>? configure = null)
    {
        var options = new StoragePolicyOptions { MaxObjectSize = 1_000_000 };
        options.Namespaces.Add(NamespacePolicy.ForTask("task-42", "job-42", Alice));
        options.Namespaces.Add(NamespacePolicy.ForService("svc-thumbs", "thumbs", Bob) with
        {
            AllowedContentTypes = ["image/*"],
            AllowedExtensions = [".png", ".jpg"],
            Coding = new CodingPolicy(4, 2),
        });
        options.Namespaces.Add(NamespacePolicy.MeshGlobal("public", Alice, new AccessGrant("*", ObjectOperations.Read | ObjectOperations.List), new AccessGrant(Bob, ObjectOperations.Write)) with
        {
            MaxObjectSize = 5000,
            QuotaBytes = 10_000,
        });
        options.Namespaces.Add(new NamespacePolicy("archive-*", AccessLevel.MeshGlobal) { OwnerAccount = Carol, AllowedOperations = ObjectOperations.Read | ObjectOperations.Write | ObjectOperations.List });
        options.AccountQuotas.Add(new AccountQuota(Bob, 2000));
        configure?.Invoke(options);
        return new StoragePolicyEvaluator(options);
    }

    private static StorageAccessRequest Req(string account, string ns, ObjectOperations op, string name = "file.bin") => new(new StoragePrincipal(account), ns, name, op);

    [Fact]
    [Trait("Suite", "BVT")]
    public void TaskIsolated_OwningTask_Allowed()
    {
        var decision = Evaluator().Evaluate(Req(Carol, "task-42", ObjectOperations.Write) with { Principal = new StoragePrincipal(Carol) { TaskId = "job-42" }, Size = 100 });
        Assert.True(decision.IsAllowed);
        Assert.Equal(200, decision.StatusCode);
        Assert.Equal(1_000_000, decision.MaxObjectSize);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void TaskIsolated_SubmittingAccount_Allowed()
    {
        Assert.True(Evaluator().Evaluate(Req(Alice, "task-42", ObjectOperations.Read)).IsAllowed);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void TaskIsolated_OtherTask_DeniedWith403()
    {
        var decision = Evaluator().Evaluate(Req(Bob, "task-42", ObjectOperations.Read) with { Principal = new StoragePrincipal(Bob) { TaskId = "job-43" } });
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Equal(403, decision.StatusCode);
        Assert.Contains("task-isolated", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void ServiceShared_TaskOfService_AllowedWithCoding()
    {
        var principal = new StoragePrincipal(Carol) { TaskId = "job-1", ServiceId = "thumbs" };
        var decision = Evaluator().Evaluate(new StorageAccessRequest(principal, "svc-thumbs", "a.png", ObjectOperations.Write) { ContentType = "image/png", Size = 10 });
        Assert.True(decision.IsAllowed, decision.Reason);
        Assert.Equal(new CodingPolicy(4, 2), decision.Coding);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void ServiceShared_WrongContentType_Denied()
    {
        var principal = new StoragePrincipal(Carol) { ServiceId = "thumbs" };
        var decision = Evaluator().Evaluate(new StorageAccessRequest(principal, "svc-thumbs", "a.png", ObjectOperations.Write) { ContentType = "text/html; charset=utf-8" });
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains("Content type", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void ServiceShared_WrongExtension_Denied()
    {
        var principal = new StoragePrincipal(Carol) { ServiceId = "thumbs" };
        var decision = Evaluator().Evaluate(new StorageAccessRequest(principal, "svc-thumbs", "a.exe", ObjectOperations.Write) { ContentType = "image/png" });
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains(".exe", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void MeshGlobal_WildcardGrant_AllowsReadNotWrite()
    {
        var evaluator = Evaluator();
        Assert.True(evaluator.Evaluate(Req(Carol, "public", ObjectOperations.Read)).IsAllowed);
        Assert.True(evaluator.Evaluate(Req(Carol, "public", ObjectOperations.List)).IsAllowed);
        Assert.Equal(PolicyOutcome.Deny, evaluator.Evaluate(Req(Carol, "public", ObjectOperations.Write)).Outcome);
        Assert.Equal(PolicyOutcome.Deny, evaluator.Evaluate(Req(Bob, "public", ObjectOperations.Delete)).Outcome);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_OverNamespaceMax_TooLargeWith413()
    {
        var decision = Evaluator().Evaluate(Req(Alice, "public", ObjectOperations.Write) with { Size = 5001 });
        Assert.Equal(PolicyOutcome.TooLarge, decision.Outcome);
        Assert.Equal(413, decision.StatusCode);
        Assert.Equal(5000, decision.MaxObjectSize);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_OverGlobalMax_TooLarge()
    {
        var principal = new StoragePrincipal(Alice) { TaskId = "job-42" };
        var decision = Evaluator().Evaluate(new StorageAccessRequest(principal, "task-42", "x", ObjectOperations.Write) { Size = 1_000_001 });
        Assert.Equal(413, decision.StatusCode);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_NamespaceQuotaExceeded_Denied()
    {
        var decision = Evaluator().Evaluate(Req(Alice, "public", ObjectOperations.Write) with { Size = 3000, NamespaceUsedBytes = 8000 });
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains("quota", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_ReplacingObject_CountsFreedBytes()
    {
        var decision = Evaluator().Evaluate(Req(Alice, "public", ObjectOperations.Write) with { Size = 3000, NamespaceUsedBytes = 8000, ReplacedSize = 2000 });
        Assert.True(decision.IsAllowed, decision.Reason);
        Assert.Equal(4000, decision.MaxObjectSize);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_AccountQuotaExceeded_Denied()
    {
        var decision = Evaluator().Evaluate(Req(Bob, "public", ObjectOperations.Write) with { Size = 600, AccountUsedBytes = 1500 });
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains(Bob, decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Write_UnknownSize_MaxLimitedByQuotaRoom()
    {
        var decision = Evaluator().Evaluate(Req(Bob, "public", ObjectOperations.Write) with { AccountUsedBytes = 1500 });
        Assert.True(decision.IsAllowed, decision.Reason);
        Assert.Equal(500, decision.MaxObjectSize);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Pattern_OperationNotAllowed_DeniedEvenForOwner()
    {
        var evaluator = Evaluator();
        Assert.True(evaluator.Evaluate(Req(Carol, "archive-2026", ObjectOperations.Write)).IsAllowed);
        var decision = evaluator.Evaluate(Req(Carol, "archive-2026", ObjectOperations.Delete));
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains("not allowed", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void UnknownNamespace_Denied()
    {
        var decision = Evaluator().Evaluate(Req(Alice, "nowhere", ObjectOperations.Read));
        Assert.Equal(PolicyOutcome.Deny, decision.Outcome);
        Assert.Contains("no storage policy", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void FindPolicy_ExactBeatsPatternAndLongerPatternBeatsShorter()
    {
        var evaluator = Evaluator(o =>
        {
            o.Namespaces.Add(new NamespacePolicy("arch*", AccessLevel.MeshGlobal));
            o.Namespaces.Add(new NamespacePolicy("archive-special", AccessLevel.TaskIsolated));
        });
        Assert.Equal("archive-*", evaluator.FindPolicy("archive-1")!.Namespace);
        Assert.Equal("archive-special", evaluator.FindPolicy("archive-special")!.Namespace);
        Assert.Equal("arch*", evaluator.FindPolicy("archer")!.Namespace);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void OwnerlessPatterns_AreOwnedNamespaceByNamespace_ByWhatTheStarStandsFor()
    {
        var evaluator = Evaluator(o =>
        {
            o.Namespaces.Add(new NamespacePolicy("task-*", AccessLevel.TaskIsolated));
            o.Namespaces.Add(new NamespacePolicy("svc-*", AccessLevel.ServiceShared));
        });
        StorageAccessRequest As(string ns, string? task, string? service) =>
            Req(Alice, ns, ObjectOperations.Read) with { Principal = new StoragePrincipal(Alice) { TaskId = task, ServiceId = service } };

        Assert.True(evaluator.Evaluate(As("task-t1", "t1", "org.a")).IsAllowed);
        Assert.False(evaluator.Evaluate(As("task-t2", "t1", "org.a")).IsAllowed);
        Assert.False(evaluator.Evaluate(As("task-t1", null, null)).IsAllowed);
        Assert.True(evaluator.Evaluate(As("svc-org.a", "t1", "org.a")).IsAllowed);
        Assert.False(evaluator.Evaluate(As("svc-org.a", "t9", "org.b")).IsAllowed);
        Assert.False(evaluator.Evaluate(As("svc-org.a", null, null)).IsAllowed);
    }
}
