using System.Net;
using System.Text.Json;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>Turns a gateway's problem-details answer (RFC 9457) into one line for the terminal.</summary>
internal static class ProblemText
{
    public static string Describe(HttpStatusCode status, string body)
    {
        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            var parts = new List<string>();
            if (problem.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } d)
            {
                parts.Add(d);
            }
            else if (problem.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 } t)
            {
                parts.Add(t);
            }

            if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject())
                {
                    foreach (var message in field.Value.EnumerateArray())
                    {
                        parts.Add($"{field.Name}: {message.GetString()}");
                    }
                }
            }

            if (parts.Count > 0)
            {
                return $"{(int)status} {string.Join("; ", parts)}";
            }
        }
        catch (JsonException)
        {
            // Not problem details: fall through to the raw text.
        }

        return $"{(int)status} {status}{(string.IsNullOrWhiteSpace(body) ? "" : ": " + body.Trim())}";
    }
}
