using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.Internal;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

[Trait("Suite", "BVT")]
public sealed class WasiPathTests
{
    [Theory]
    [InlineData("", "a", "a")]
    [InlineData("", "./a//b/", "a/b")]
    [InlineData("", "a/../b", "b")]
    [InlineData("", ".", "")]
    [InlineData("d", "x", "d/x")]
    [InlineData("d/e", "x/../f", "d/e/f")]
    public void Normalize_ValidPaths_Resolve(string baseDir, string relative, string expected)
    {
        Assert.Equal(WasiErrno.Success, WasiPath.Normalize(baseDir, relative, out var resolved));
        Assert.Equal(expected, resolved);
    }

    [Theory]
    [InlineData("", "..", WasiErrno.NotCapable)]
    [InlineData("", "a/../..", WasiErrno.NotCapable)]
    [InlineData("d", "../x", WasiErrno.NotCapable)]
    [InlineData("d/e", "../f", WasiErrno.NotCapable)]
    [InlineData("", "/etc/passwd", WasiErrno.NotCapable)]
    [InlineData("", "", WasiErrno.NoEnt)]
    [InlineData("", "a\0b", WasiErrno.Inval)]
    public void Normalize_BadPaths_AreRefused(string baseDir, string relative, WasiErrno expected)
    {
        Assert.Equal(expected, WasiPath.Normalize(baseDir, relative, out _));
    }

    [Fact]
    public void Normalize_OverlongSegment_IsNameTooLong()
    {
        Assert.Equal(WasiErrno.NameTooLong, WasiPath.Normalize(string.Empty, new string('x', 256), out _));
        Assert.Equal(WasiErrno.NameTooLong, WasiPath.Normalize(string.Empty, string.Join('/', Enumerable.Repeat("a", 3000)), out _));
    }
}
