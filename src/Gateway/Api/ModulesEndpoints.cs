using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary><c>POST /api/modules</c> (upload a .wasm) and <c>GET /api/modules/{hash}</c>.</summary>
internal static class ModulesEndpoints
{
    public static void MapModulesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/modules", UploadAsync).WithName("UploadModule").WithMetadata(OwnsBodyLimit.Instance)
            .WithSummary("Uploads a WebAssembly module (the request body, at most Xmbl:Compute:MaxModuleBytes, else 413); validates it and stores it under its SHA-256. 201 when new, 200 when already known.");
        app.MapGet("/api/modules/{hash}", GetAsync).WithName("GetModule")
            .WithSummary("The module's record: size, exports, imports, whether it is a WASI command.");
        app.MapGet("/api/modules/{hash}/content", GetContentAsync).WithName("GetModuleContent")
            .WithSummary("The module's bytes (application/wasm).");
    }

    private static async Task<IResult> UploadAsync(HttpContext context, ModuleStore modules, IOptions<ComputeOptions> options, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(context, options.Value.MaxModuleBytes, ComputeOptions.SectionName + ":" + nameof(ComputeOptions.MaxModuleBytes), cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        var bytes = body.Bytes;
        if (bytes.Length == 0)
        {
            return Problems.BadRequest("The request body is empty; send the .wasm bytes (Content-Type: application/wasm).");
        }

        try
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes.Span));
            var known = await modules.GetInfoAsync(hash) is not null;
            var info = await modules.AddAsync(bytes, cancellationToken);
            return known ? Results.Ok(info) : Results.Created($"/api/modules/{info.Hash}", info);
        }
        catch (ModuleRejectedException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
    }

    private static async Task<IResult> GetAsync(string hash, ModuleStore modules)
    {
        if (!ModuleStore.IsValidHash(hash))
        {
            return Problems.BadRequest("A module hash is 64 lower-case hex digits (its SHA-256).");
        }

        return await modules.GetInfoAsync(hash) is { } info ? Results.Ok(info) : Problems.NotFound($"Module {hash} was never uploaded.");
    }

    private static async Task<IResult> GetContentAsync(string hash, ModuleStore modules, CancellationToken cancellationToken)
    {
        if (!ModuleStore.IsValidHash(hash))
        {
            return Problems.BadRequest("A module hash is 64 lower-case hex digits (its SHA-256).");
        }

        return await modules.GetBytesAsync(hash, cancellationToken) is { } bytes
            ? Results.Bytes(bytes, "application/wasm")
            : Problems.NotFound($"Module {hash} was never uploaded.");
    }
}
