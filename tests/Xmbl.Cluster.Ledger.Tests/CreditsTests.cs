namespace Xmbl.Cluster.Ledger.Tests;

[Trait("Suite", "BVT")]
public sealed class CreditsTests
{
    [Theory]
    [InlineData("1", 1_000_000)]
    [InlineData("2.5", 2_500_000)]
    [InlineData("0.000001", 1)]
    [InlineData(".5", 500_000)]
    [InlineData("12.345678", 12_345_678)]
    [InlineData("007", 7_000_000)]
    [InlineData("9223372036854.775807", long.MaxValue)]
    public void Amounts_in_xmbl_c_read_as_exact_micro_xmbl_c(string text, long micro)
    {
        Assert.True(Credits.TryParse(text, out var parsed));
        Assert.Equal(micro, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("0.000000")]
    [InlineData("0.0000001")]
    [InlineData("1.")]
    [InlineData(".")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1e3")]
    [InlineData("1,5")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1_000")]
    [InlineData("１")]
    [InlineData("9223372036854.775808")]
    [InlineData("99999999999999999999")]
    public void Anything_else_is_refused(string text) => Assert.False(Credits.TryParse(text, out _));

    [Fact]
    public void Zero_reads_only_when_allowed() => Assert.True(Credits.TryParse("0.0", out var zero, allowZero: true) && zero == 0);

    [Theory]
    [InlineData(0, "0.000000")]
    [InlineData(1, "0.000001")]
    [InlineData(2_500_000, "2.500000")]
    [InlineData(-2_500_001, "-2.500001")]
    [InlineData(long.MaxValue, "9223372036854.775807")]
    [InlineData(long.MinValue, "-9223372036854.775808")]
    public void Micro_xmbl_c_write_with_six_decimals(long micro, string text) => Assert.Equal(text, Credits.Format(micro));
}
