using System.Net;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Jobs;

namespace Xmbl.Cluster.IntegrationTests.Objects;

/// <summary>The X-Xmbl-Account header names an account of 1-128 characters of [A-Za-z0-9._:-]; anything else is a 400.</summary>
[Trait("Suite", "Functional")]
public sealed class AccountHeaderTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    public static TheoryData<string> Malformed => ["*", new string('a', 10_000), new string('a', 129), "alice bob", "did:key:*", "a/b"];

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedAccount_Answers400_AndNothingIsStored(string account)
    {
        using var put = await PutAsync("accounts/refused", account);
        using var get = await fixture.Silo.Http.GetAsync(new Uri("/api/objects/accounts/refused", UriKind.Relative));

        Assert.Contains("X-Xmbl-Account", (await SubmissionValidationTests.ProblemAsync(put, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task WellFormedAccount_OwnsWhatItStores()
    {
        const string Account = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        using var put = await PutAsync("accounts/kept", Account);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(Account, JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task MalformedAccountInAQuery_Answers400()
    {
        using var usage = await fixture.Silo.Http.GetAsync(new Uri("/api/storage/usage?account=%2A", UriKind.Relative));
        using var jobs = await fixture.Silo.Http.GetAsync(new Uri("/api/jobs?submitter=a%20b", UriKind.Relative));

        await SubmissionValidationTests.ProblemAsync(usage, HttpStatusCode.BadRequest);
        await SubmissionValidationTests.ProblemAsync(jobs, HttpStatusCode.BadRequest);
    }

    private Task<HttpResponseMessage> PutAsync(string address, string account)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri("/api/objects/" + address, UriKind.Relative)) { Content = new ByteArrayContent([1]) };
        request.Headers.TryAddWithoutValidation("X-Xmbl-Account", account);
        return fixture.Silo.Http.SendAsync(request);
    }
}
