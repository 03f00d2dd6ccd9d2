using OpenVret.Signals.Hrv;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

/// <summary>The sorted-candidate sample entropy against the definition's all-pairs count.</summary>
public sealed class SampleEntropyTests
{
    [Theory]
    [InlineData(1, 300, 0.2)] [InlineData(2, 300, 0.2)] [InlineData(3, 300, 0.25)] [InlineData(2, 500, 0.1)] [InlineData(2, 40, 0.5)]
    public void CountsTheSamePairsAsTheDefinition(int m, int n, double tolerance)
    {
        var rng = new Random(m * 1000 + n);
        // Quantised like RR intervals at 250 Hz (4 ms steps), so ties and exact-r distances occur.
        var x = Enumerable.Range(0, n).Select(i => 800 + 4 * Math.Round(10 * Math.Sin(i * 0.4) + 6 * rng.NextDouble())).ToArray();
        double sd = Math.Sqrt(x.Select(v => (v - x.Average()) * (v - x.Average())).Sum() / (n - 1));
        double r = tolerance * sd;
        long bb = 0, aa = 0;
        int count = n - m;
        for (int i = 0; i < count; i++)
            for (int j = i + 1; j < count; j++)
            {
                bool match = true;
                for (int k = 0; k < m; k++) if (Math.Abs(x[i + k] - x[j + k]) > r) { match = false; break; }
                if (!match) continue;
                bb++;
                if (Math.Abs(x[i + m] - x[j + m]) <= r) aa++;
            }
        var (value, matches) = SampleEntropy.Compute(x, m, r);
        Assert.Equal(aa, matches);
        Assert.Equal(-Math.Log((double)aa / bb), value, 12);
    }
}
