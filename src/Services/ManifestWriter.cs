using System.Text.Json;

namespace Xmbl.Cluster.Services;

/// <summary>
/// Writes a manifest in its canonical form: every field in a fixed order, defaults written out, no whitespace,
/// numbers in their shortest round-trip form. Two manifests that mean the same give the same bytes, so the package
/// signature covers meaning rather than layout.
/// </summary>
public static class ManifestWriter
{
    private static readonly JsonWriterOptions Compact = new() { Indented = false };
    private static readonly JsonWriterOptions Pretty = new() { Indented = true };

    /// <summary>The canonical UTF-8 bytes (what a package signature covers).</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The bytes.</returns>
    public static byte[] ToCanonicalJson(ServiceManifest manifest) => Write(manifest, Compact);

    /// <summary>The same content, indented for people (what <c>xmbl service new</c> writes).</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The bytes.</returns>
    public static byte[] ToIndentedJson(ServiceManifest manifest) => Write(manifest, Pretty);

    private static byte[] Write(ServiceManifest m, JsonWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(m);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            w.WriteString("packageId", m.PackageId);
            w.WriteString("version", m.Version);
            w.WriteString("serviceType", m.ServiceType);
            w.WriteString("author", m.Author);
            w.WriteString("description", m.Description);
            WriteList(w, "runtimeRequired", m.RuntimeRequired);
            WriteList(w, "runtimeOptional", m.RuntimeOptional);
            w.WriteString("deviceProfile", m.DeviceProfile);
            w.WriteStartObject("resourceRequirements");
            w.WriteNumber("minMemoryMB", m.ResourceRequirements.MinMemoryMB);
            w.WriteNumber("maxMemoryMB", m.ResourceRequirements.MaxMemoryMB);
            w.WriteNumber("estimatedCpuUsage", m.ResourceRequirements.EstimatedCpuUsage);
            w.WriteNumber("storageRequiredMB", m.ResourceRequirements.StorageRequiredMB);
            w.WriteBoolean("requiresGPU", m.ResourceRequirements.RequiresGpu);
            w.WriteEndObject();
            WriteList(w, "platformSupport", m.PlatformSupport);
            WriteList(w, "capabilities", m.Capabilities);
            WriteList(w, "httpAllowList", m.HttpAllowList);
            w.WriteStartArray("inputs");
            foreach (var input in m.Inputs)
            {
                w.WriteStartObject();
                w.WriteString("name", input.Name);
                w.WriteString("type", ServiceValueTypeNames.Of(input.Type));
                w.WriteBoolean("required", input.Required);
                w.WriteString("description", input.Description);
                if (input.Minimum is { } min)
                {
                    w.WriteNumber("minimum", min);
                }

                if (input.Maximum is { } max)
                {
                    w.WriteNumber("maximum", max);
                }

                if (input.MaxLength is { } length)
                {
                    w.WriteNumber("maxLength", length);
                }

                WriteList(w, "fileTypes", input.FileTypes);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("outputs");
            foreach (var output in m.Outputs)
            {
                w.WriteStartObject();
                w.WriteString("name", output.Name);
                w.WriteString("type", ServiceValueTypeNames.Of(output.Type));
                w.WriteString("filenameFormat", output.FilenameFormat);
                w.WriteString("fileType", output.FileType);
                w.WriteString("description", output.Description);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("files");
            foreach (var file in m.Files)
            {
                w.WriteStartObject();
                w.WriteString("path", file.Path);
                w.WriteString("kind", file.Kind == ServiceFileKind.Module ? "module" : "data");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (m.Entry is not null)
            {
                w.WriteString("entry", m.Entry);
            }

            w.WriteBoolean("builtin", m.Builtin);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStringValue(item);
        }

        w.WriteEndArray();
    }
}
