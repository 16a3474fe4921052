namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// Runs the decode/validate part of a spec file without an engine: every binary module must decode and validate,
/// <c>assert_invalid</c> must fail validation, binary <c>assert_malformed</c> must fail decoding, and the modules of
/// <c>assert_unlinkable</c>/<c>assert_uninstantiable</c> must be valid (they fail later, at link/instantiation time).
/// </summary>
internal static class SpecValidationRunner
{
    public const string Mode = "validation";

    public static SpecFileResult Run(SpecFile file)
    {
        var result = new SpecFileResult(file.Name, Mode);
        foreach (var command in file.Commands)
        {
            switch (command.Type)
            {
                case "module":
                case "assert_unlinkable":
                case "assert_uninstantiable":
                    Expect(result, file, command, null);
                    break;
                case "assert_invalid":
                    Expect(result, file, command, typeof(WasmInvalidException));
                    break;
                case "assert_malformed" when command.ModuleType == "text":
                    result.Skip(command, "text format");
                    break;
                case "assert_malformed":
                    Expect(result, file, command, typeof(WasmMalformedException));
                    break;
            }
        }

        return result;
    }

    /// <summary>Decodes and validates a binary the way the engine does before translation.</summary>
    public static void DecodeAndValidate(byte[] bytes) => ModuleValidator.Validate(ModuleDecoder.Decode(bytes));

    private static void Expect(SpecFileResult result, SpecFile file, SpecCommand command, Type? expected)
    {
        Exception? error = null;
        try
        {
            DecodeAndValidate(file.ReadModule(command.FileName!));
        }
        catch (Exception e)
        {
            error = e;
        }

        if (expected is null)
        {
            if (error is null)
            {
                result.Pass(command);
            }
            else
            {
                result.Fail(command, $"{command.FileName} should be valid, got {Describe(error)}");
            }

            return;
        }

        if (error is not null && error.GetType() == expected)
        {
            result.Pass(command);
            if (command.Text is { } text && !error.Message.Contains(text, StringComparison.Ordinal))
            {
                result.NoteMessageMismatch();
            }
        }
        else
        {
            result.Fail(command, $"{command.FileName} expected {expected.Name} \"{command.Text}\", got {(error is null ? "success" : Describe(error))}");
        }
    }

    internal static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";
}
