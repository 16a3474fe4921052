using Xmbl.Cluster.Storage.Codec.Internal;

namespace Xmbl.Cluster.Storage.Tests.Codec;

[Trait("Suite", "BVT")]
public sealed class GfMatrixTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    [InlineData(17, 3)]
    [InlineData(128, 128)]
    public void BuildSystematic_AnyShape_TopIsIdentity(int k, int m)
    {
        var matrix = GfMatrix.BuildSystematic(k, k + m);
        Assert.Equal(k + m, matrix.Rows);
        Assert.Equal(k, matrix.Columns);
        Assert.True(matrix.SubMatrix(0, 0, k, k).IsIdentity());
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    public void BuildSystematic_TimesTopVandermonde_GivesVandermonde(int k, int m)
    {
        // S = V * inverse(top(V)), so S * top(V) = V: the systematic matrix spans the same code as the Vandermonde one.
        var vandermonde = GfMatrix.Vandermonde(k + m, k);
        var product = GfMatrix.BuildSystematic(k, k + m).Multiply(vandermonde.SubMatrix(0, 0, k, k));
        for (var r = 0; r < k + m; r++)
        {
            Assert.Equal(vandermonde.Row(r).ToArray(), product.Row(r).ToArray());
        }

        Assert.Equal(1, vandermonde[0, 0]);
        Assert.Equal(0, vandermonde[0, 1]);
        Assert.Equal(GaloisField.Pow(3, 2), vandermonde[3, 2]);
    }

    [Fact]
    public void Invert_RandomInvertibleMatrices_ProductIsIdentity()
    {
        var random = new Random(3);
        var inverted = 0;
        for (var t = 0; t < 200; t++)
        {
            var n = random.Next(1, 12);
            var m = new GfMatrix(n, n);
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < n; c++)
                {
                    m[r, c] = (byte)random.Next(256);
                }
            }

            GfMatrix inverse;
            try
            {
                inverse = m.Invert();
            }
            catch (InvalidOperationException)
            {
                continue;
            }

            inverted++;
            Assert.True(m.Multiply(inverse).IsIdentity());
            Assert.True(inverse.Multiply(m).IsIdentity());
        }

        Assert.True(inverted > 150, $"Only {inverted} of 200 random matrices were invertible.");
    }

    [Fact]
    public void Invert_SingularMatrix_Throws()
    {
        var m = new GfMatrix(2, 2);
        m[0, 0] = 3;
        m[0, 1] = 5;
        m[1, 0] = 3;
        m[1, 1] = 5;
        Assert.Throws<InvalidOperationException>(() => m.Invert());
    }

    [Fact]
    public void SystematicMatrix_AnyKRows_AreInvertible()
    {
        // The MDS property the codec relies on: every k x k row selection of the coding matrix is invertible.
        const int K = 4;
        const int N = 8;
        var matrix = GfMatrix.BuildSystematic(K, N);
        foreach (var rows in CodecTestHelpers.Combinations(N, K))
        {
            Assert.True(matrix.SelectRows(rows).Multiply(matrix.SelectRows(rows).Invert()).IsIdentity());
        }
    }
}
