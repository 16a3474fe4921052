using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Objects;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>A job acts for the account that submits it: it reads and writes only what that account may.</summary>
[Trait("Suite", "Functional")]
public sealed class JobAccountTests(PolicySiloFixture fixture) : IClassFixture<PolicySiloFixture>
{
    private const string Alice = "alice";
    private const string Bob = "bob";

    [Fact]
    public async Task AnotherAccountsPrivateObject_CannotBeAJobsInput_NorItsNamespaceTheOutput()
    {
        var hello = await JobsApi.UploadAsync(fixture.Silo, "hello.wasm");
        using var stored = await PutAsync("alice/secret.txt", "alice's secret", Alice);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);

        var read = await RefusedAsync($$"""{"module":"{{hello}}","inputObjects":["alice/secret.txt"]}""", Bob);
        var write = await RefusedAsync($$"""{"module":"{{hello}}","outputObject":"alice/out.txt"}""", Bob);
        var impersonated = await RefusedAsync($$"""{"module":"{{hello}}","inputObjects":["alice/secret.txt"],"outputObject":"alice/out.txt","submitter":"{{TestAccounts.Did(Alice)}}"}""", Bob);
        using var owner = await PostAsync($$"""{"module":"{{hello}}","inputObjects":["alice/secret.txt"],"outputObject":"alice/out.txt"}""", Alice);

        Assert.Equal(["inputObjects"], read.Keys);
        Assert.Equal(["outputObject"], write.Keys);
        Assert.Equal(["submitter"], impersonated.Keys);
        Assert.True(owner.StatusCode == HttpStatusCode.Created, await owner.Content.ReadAsStringAsync());
    }

    private async Task<Dictionary<string, string[]>> RefusedAsync(string json, string account)
    {
        using var response = await PostAsync(json, account);
        var problem = await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest);
        return problem.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    private Task<HttpResponseMessage> PostAsync(string json, string account)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/jobs", UriKind.Relative)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return fixture.Silo.As(account).SendAsync(request);
    }

    private Task<HttpResponseMessage> PutAsync(string address, string text, string account)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri("/api/objects/" + address, UriKind.Relative)) { Content = new StringContent(text) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return fixture.Silo.As(account).SendAsync(request);
    }
}
