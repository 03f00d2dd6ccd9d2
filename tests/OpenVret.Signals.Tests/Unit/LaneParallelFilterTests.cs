using OpenVret.Signals.Filters;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

/// <summary>
/// Long records are filtered four blocks at a time (<c>LaneParallel</c>); chunks shorter than its threshold
/// run the plain per-sample cascade. Against a 28-digit (decimal) run of the same cascade, the lanes must be
/// as accurate as the sequential cascade: filters with poles near 1 amplify rounding, so "equal" means "equal
/// up to the error the sequential run itself makes".
/// </summary>
public sealed class LaneParallelFilterTests
{
    public static TheoryData<int, string, double, double, double, int> Filters => new()
    {
        { 5, "high", 0.5, 0, 500, 300_003 },     // the ECG cleaner: 3 sections, slow poles
        { 4, "low", 3, 0, 64, 200_001 },         // 2 sections (general path)
        { 3, "band", 0.5, 8, 64, 150_002 },      // 3 sections, band-pass
        { 1, "high", 0.5, 0, 250, 70_000 },      // 1 section
        { 9, "band", 5, 15, 250, 100_000 },      // 9 sections: beyond the lanes' limit, sequential
        { 2, "high", 0.0005, 0, 1000, 70_001 },  // response lasts longer than a block: carried to the end
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public void FourBlocksAtOnceEqualTheSequentialCascade(int order, string kind, double f1, double f2, double hz, int n)
    {
        var rate = new SampleRate(hz);
        FilterBand band = kind switch { "high" => new FilterBand.HighPass(f1), "low" => new FilterBand.LowPass(f1), _ => new FilterBand.BandPass(f1, f2) };
        var filter = Butterworth.Design(order, band, rate);
        var rng = new Random(order * 31 + n);
        var x = Enumerable.Range(0, n).Select(i => 3 + Math.Sin(i * 0.01) + rng.NextDouble() - 0.5 + (i % 7000 == 0 ? 40 : 0)).ToArray();
        var start = filter.SteadyStateFor(x[0]);

        foreach (bool backward in new[] { false, true })
        {
            var whole = x.ToArray(); var zWhole = start.ToArray();
            if (backward) filter.RunBackward(whole, zWhole); else filter.Run(whole, zWhole);

            var chunked = x.ToArray(); var zChunk = start.ToArray();
            const int chunk = 1000; // below the lane threshold: the per-sample cascade
            int chunks = (n + chunk - 1) / chunk;
            for (int c = 0; c < chunks; c++)
            {
                int k = backward ? chunks - 1 - c : c;
                var span = chunked.AsSpan(k * chunk, Math.Min(chunk, n - k * chunk));
                if (backward) filter.RunBackward(span, zChunk); else filter.Run(span, zChunk);
            }

            var (reference, zRef) = DecimalCascade(filter, x, start, backward);
            double scale = reference.Max(Math.Abs);
            double errLanes = whole.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            double errSequential = chunked.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            string dir = backward ? "backward" : "forward";
            Assert.True(errLanes <= 2 * errSequential + 1e-14 * scale, $"{dir}: lanes off by {errLanes:E2}, sequential by {errSequential:E2} (output scale {scale:0.###})");
            for (int s = 0; s < zWhole.Length; s++)
            {
                double eL = Math.Abs(zWhole[s] - zRef[s]), eS = Math.Abs(zChunk[s] - zRef[s]);
                Assert.True(eL <= 2 * eS + 1e-14 * (1 + Math.Abs(zRef[s])), $"{dir} end state {s}: lanes off by {eL:E2}, sequential by {eS:E2}");
            }
        }
    }

    private static (double[] Y, double[] Z) DecimalCascade(SosFilter filter, double[] x, double[] start, bool backward)
    {
        var c = filter.Coefficients.Select(r => r.Select(v => (decimal)v).ToArray()).ToArray();
        var z = start.Select(v => (decimal)v).ToArray();
        var y = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            int i = backward ? x.Length - 1 - j : j;
            decimal v = (decimal)x[i];
            for (int s = 0; s < c.Length; s++)
            {
                decimal o = c[s][0] * v + z[2 * s];
                z[2 * s] = c[s][1] * v - c[s][4] * o + z[2 * s + 1];
                z[2 * s + 1] = c[s][2] * v - c[s][5] * o;
                v = o;
            }
            y[i] = (double)v;
        }
        return (y, z.Select(v => (double)v).ToArray());
    }
}
