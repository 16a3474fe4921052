using Xmbl.Cluster.Storage.Codec.Internal;

namespace Xmbl.Cluster.Storage.Tests.Codec;

[Trait("Suite", "BVT")]
public sealed class GaloisFieldTests
{
    // Carry-less multiply then reduce by 0x11D: an independent definition of the field product.
    private static byte ReferenceMul(byte a, byte b)
    {
        var product = 0;
        for (var i = 0; i < 8; i++)
        {
            if ((b & (1 << i)) != 0)
            {
                product ^= a << i;
            }
        }

        for (var bit = 14; bit >= 8; bit--)
        {
            if ((product & (1 << bit)) != 0)
            {
                product ^= GaloisField.Polynomial << (bit - 8);
            }
        }

        return (byte)product;
    }

    [Fact]
    public void MulTable_EveryPair_MatchesCarrylessMultiplyReducedBy0x11D()
    {
        for (var a = 0; a < 256; a++)
        {
            for (var b = 0; b < 256; b++)
            {
                var expected = ReferenceMul((byte)a, (byte)b);
                Assert.Equal(expected, GaloisField.Mul((byte)a, (byte)b));
                Assert.Equal(expected, GaloisField.MulSlow((byte)a, (byte)b));
            }
        }
    }

    [Fact]
    public void Inverse_EveryNonZeroElement_MultipliesToOne()
    {
        for (var a = 1; a < 256; a++)
        {
            Assert.Equal(1, GaloisField.Mul((byte)a, GaloisField.Inverse((byte)a)));
        }
    }

    [Fact]
    public void Inverse_Zero_Throws()
        => Assert.Throws<DivideByZeroException>(() => GaloisField.Inverse(0));

    [Fact]
    public void Div_EveryPair_IsMultiplicationByInverse()
    {
        for (var a = 0; a < 256; a++)
        {
            for (var b = 1; b < 256; b++)
            {
                Assert.Equal(GaloisField.Mul((byte)a, GaloisField.Inverse((byte)b)), GaloisField.Div((byte)a, (byte)b));
            }
        }

        Assert.Throws<DivideByZeroException>(() => GaloisField.Div(5, 0));
    }

    [Fact]
    public void Exp_Generator2_HasOrder255AndVisitsEveryNonZeroElement()
    {
        var seen = new HashSet<byte>();
        for (var i = 0; i < 255; i++)
        {
            Assert.True(seen.Add(GaloisField.Exp(i)), $"2^{i} repeats an earlier power.");
            Assert.Equal(i, GaloisField.Log(GaloisField.Exp(i)));
        }

        Assert.Equal(1, GaloisField.Exp(255));
        Assert.DoesNotContain((byte)0, seen);
    }

    [Fact]
    public void Pow_KnownValues_MatchRepeatedMultiplication()
    {
        Assert.Equal(1, GaloisField.Pow(0, 0));
        Assert.Equal(0, GaloisField.Pow(0, 3));
        for (var a = 1; a < 256; a += 7)
        {
            byte acc = 1;
            for (var n = 0; n < 20; n++)
            {
                Assert.Equal(acc, GaloisField.Pow((byte)a, n));
                acc = GaloisField.Mul(acc, (byte)a);
            }
        }
    }

    [Fact]
    public void Mul_FieldAxioms_HoldOnSample()
    {
        var random = new Random(17);
        for (var t = 0; t < 5000; t++)
        {
            var a = (byte)random.Next(256);
            var b = (byte)random.Next(256);
            var c = (byte)random.Next(256);
            Assert.Equal(GaloisField.Mul(a, b), GaloisField.Mul(b, a));
            Assert.Equal(GaloisField.Mul(GaloisField.Mul(a, b), c), GaloisField.Mul(a, GaloisField.Mul(b, c)));
            Assert.Equal(GaloisField.Mul(a, (byte)(b ^ c)), (byte)(GaloisField.Mul(a, b) ^ GaloisField.Mul(a, c)));
        }
    }
}
