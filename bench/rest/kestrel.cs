#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false
// The baseline of bench/rest/run.sh: a bare Kestrel endpoint answering a small JSON document, in the same run as the
// gateway, so the ratio shows what the gateway's pipeline and grain reads cost on top of the HTTP server itself.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var body = System.Text.Encoding.UTF8.GetBytes("{\"id\":\"bare\",\"status\":\"Settled\"}");
app.MapGet("/bare", () => Results.Bytes(body, "application/json"));
app.Run();
