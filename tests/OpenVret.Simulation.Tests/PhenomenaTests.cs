using OpenVret.Exposure.Domain;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Simulation.Tests;

/// <summary>The classic extinction phenomena, reproduced qualitatively by the virtual patient's fear memory.</summary>
public sealed class PhenomenaTests(ITestOutputHelper output)
{
    private static readonly ExposureContext A = new("office", "day", "afternoon", "quiet");
    private static readonly ExposureContext B = new("living_room", "dim", "evening", "ambient");
    private static readonly ExposureContext C = new("street", "night", "morning", "busy");
    private const double Stimulus = 0.6;

    /// <summary>Extinction trials (outcome 0) in a context: two-minute exposures, then learning.</summary>
    private static void Extinguish(FearModel m, ExposureContext ctx, double day, int trials, Func<int, double>? outcome = null)
    {
        for (int i = 0; i < trials; i++)
        {
            m.Fear(Stimulus, ctx, day, i * 3);
            m.Expose(m.Fear(Stimulus, ctx, day, i * 3), 2);
            m.Learn(Stimulus, ctx, day, outcome?.Invoke(i) ?? 0);
        }
    }

    [Fact]
    public void WithinSessionHabituation()
    {
        var m = new FearModel(new FearParameters());
        double first = m.Fear(Stimulus, A, 0, 0);
        for (int minute = 1; minute <= 20; minute++) m.Expose(m.Fear(Stimulus, A, 0, minute), 1);
        double last = m.Fear(Stimulus, A, 0, 20);
        output.WriteLine($"fear at minute 0: {first:0.00}, at minute 20: {last:0.00}");
        Assert.True(last < 0.8 * first);
        // ... and habituation recovers by the next day.
        Assert.True(m.Fear(Stimulus, A, 1, 0) > 0.95 * first);
    }

    [Fact]
    public void BetweenSessionExtinction()
    {
        var m = new FearModel(new FearParameters());
        var starts = new List<double>();
        for (int session = 0; session < 5; session++)
        {
            starts.Add(m.Fear(Stimulus, A, session * 7, 0));
            Extinguish(m, A, session * 7, 6);
        }
        output.WriteLine("fear at session starts: " + string.Join(", ", starts.Select(s => s.ToString("0.00"))));
        for (int i = 1; i < starts.Count; i++) Assert.True(starts[i] < starts[i - 1]);
        Assert.True(starts[^1] < 0.5 * starts[0]);
    }

    [Fact]
    public void SpontaneousRecovery()
    {
        var m = new FearModel(new FearParameters());
        Extinguish(m, A, 0, 12);
        double soon = m.Expectancy(Stimulus, A, 1), later = m.Expectancy(Stimulus, A, 60);
        output.WriteLine($"after extinction: day 1 {soon:0.00}, day 60 {later:0.00}");
        Assert.True(later > soon + 0.05);
    }

    [Fact]
    public void RenewalAbaAndAbc()
    {
        var m = new FearModel(new FearParameters());
        // Fear acquired in A (the model's excitatory memory is context-free), extinguished in B.
        Extinguish(m, B, 0, 12);
        double inB = m.Expectancy(Stimulus, B, 1), inA = m.Expectancy(Stimulus, A, 1), inC = m.Expectancy(Stimulus, C, 1);
        output.WriteLine($"test in B {inB:0.00}, ABA (A) {inA:0.00}, ABC (C) {inC:0.00}");
        Assert.True(inA > inB + 0.05);
        Assert.True(inC > inB + 0.05);
    }

    [Fact]
    public void GradualExtinctionReducesReturnOfFearComparedWithAbrupt()
    {
        var abrupt = new FearModel(new FearParameters());
        var gradual = new FearModel(new FearParameters());
        Extinguish(abrupt, A, 0, 24);
        // Gradual (Gershman et al. 2013): the outcome fades over the first trials instead of stopping at once.
        Extinguish(gradual, A, 0, 24, i => Math.Max(0, 0.7 - 0.06 * i));
        double aSoon = abrupt.Expectancy(Stimulus, A, 1), aLate = abrupt.Expectancy(Stimulus, A, 60);
        double gSoon = gradual.Expectancy(Stimulus, A, 1), gLate = gradual.Expectancy(Stimulus, A, 60);
        output.WriteLine($"abrupt: {aSoon:0.00} -> {aLate:0.00}; gradual: {gSoon:0.00} -> {gLate:0.00}");
        Assert.True(aLate - aSoon > gLate - gSoon + 0.03, "return of fear should be larger after abrupt extinction");
        Assert.True(gLate < aLate);
    }

    [Fact]
    public void CohortsDifferBySiteAndAreReproducible()
    {
        var a = Cohort.Draw(300, 4);
        var b = Cohort.Draw(300, 4);
        Assert.Equal(a, b);
        var hr = a.GroupBy(p => p.Site).ToDictionary(g => g.Key, g => g.Average(p => p.RestingHeartRate));
        Assert.True(hr["site-B"] > hr["site-C"] + 5);
        var bias = a.GroupBy(p => p.Site).ToDictionary(g => g.Key, g => g.Average(p => p.ReportingBias));
        Assert.True(bias["site-C"] > bias["site-B"] + 8);
        Assert.Contains(a, p => p.Subgroup == "older");
    }
}

public sealed class TrialRunnerTests
{
    [Fact]
    public void SameSeedSameReportAndPoliciesArePaired()
    {
        var o = new TrialOptions { Patients = 12, Sessions = 3, BootstrapResamples = 200, Models = new[] { "associative", "dual-process" } };
        var r1 = TrialRunner.Run(o);
        var r2 = TrialRunner.Run(o);
        Assert.Equal(r1.Patients.Select(p => (p.Patient, p.Model, p.Policy, p.Outcomes["post_all_steps"])), r2.Patients.Select(p => (p.Patient, p.Model, p.Policy, p.Outcomes["post_all_steps"])));
        Assert.Equal(12 * 2 * 5, r1.Patients.Count); // 3 policies + dose-matched + waitlist, under 2 models
        Assert.All(r1.Patients.GroupBy(p => (p.Patient, p.Model)), g => Assert.Equal(5, g.Select(p => p.Policy).Distinct().Count()));
        var s = r1.Summaries.Single(x => x.Outcome == "post_all_steps" && x.Policy == "inhibitory" && x.Model == "associative");
        Assert.NotNull(s.CiLow);
        Assert.True(s.CiLow <= s.DifferenceFromReference && s.DifferenceFromReference <= s.CiHigh);
    }

    [Fact]
    public void BadOptionsNameTheField()
    {
        Assert.Contains("scheduler = magic", Assert.Throws<OpenVret.Exposure.ExposureInputException>(() => TrialRunner.Run(new TrialOptions { Policies = new[] { "magic" } })).Message);
        Assert.Contains("patients = 0", Assert.Throws<OpenVret.Exposure.ExposureInputException>(() => TrialRunner.Run(new TrialOptions { Patients = 0 })).Message);
    }

    [Fact]
    public void BootstrapIntervalCoversTheMeanOfNormalData()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 400).Select(_ => 2 + Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())).ToArray();
        var (lo, hi) = TrialRunner.Bootstrap(x, 2000, 1);
        Assert.InRange(2.0, lo, hi);
        Assert.InRange(hi - lo, 0.1, 0.3); // about 2 x 1.96 / sqrt(400)
    }
}
