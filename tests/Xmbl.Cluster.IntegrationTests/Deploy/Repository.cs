namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>Paths in the repository the tests run from.</summary>
internal static class Repository
{
    /// <summary>The repository root (the directory of Xmbl.Cluster.sln above the test binaries).</summary>
    public static string Root { get; } = Find();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The build configuration the tests run in, so the programs they start are the same build.</summary>
    public static string Configuration =>
        typeof(Repository).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Xmbl.Cluster.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Xmbl.Cluster.sln) above the test binaries.");
    }
}
