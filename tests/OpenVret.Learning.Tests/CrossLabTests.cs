using OpenVret.Learning.Datasets;
using OpenVret.Learning.Transfer;
using OpenVret.Signals.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Learning.Tests;

public sealed class WiseStressLoaderTests(ITestOutputHelper output)
{
    [Fact]
    public void TagsArePlacedByTheProtocolPatternAndAnUnplaceableSubjectIsLeftOut()
    {
        // V2: baseline 100 s, TMCT 300, rest 850, three opinion intervals, rest 800, subtraction 40.
        double[] gaps = [100, 300, 850, 37, 21, 32, 800, 40];
        var tags = new List<double> { 500 };
        foreach (var g in gaps) tags.Add(tags[^1] + g);
        var seg = WiseStressLoader.Place("V2", tags, out _)!;
        Assert.Equal(new[] { "baseline", "stress", "rest", "stress", "rest", "stress" }, seg.Select(s => s.Label));
        Assert.Equal(500, seg[0].StartSeconds);
        Assert.Equal(90, seg[3].DurationSeconds, 6); // the three opinion intervals are one stress run
        Assert.Null(WiseStressLoader.Place("V2", tags.Take(8).ToList(), out var why));
        Assert.Contains("8 tags", why);
        tags[2] = tags[1] + 5; // a TMCT of 5 s is not the protocol: left out, not guessed
        Assert.Null(WiseStressLoader.Place("V2", tags, out why));
        Assert.Contains("TMCT", why);
    }

    [Fact]
    public void ADuplicatedExportIsCutWhereTheRepetitionStartsButAFlatSignalIsNot()
    {
        var rng = new Random(3);
        var head = Enumerable.Range(0, 500).Select(_ => rng.NextDouble()).ToArray();
        var dup = head.Concat(head.Take(300)).ToArray();
        Assert.Equal(500, WiseStressLoader.CutRepetition(dup, out int cut).Length);
        Assert.Equal(500, cut);
        var flat = Enumerable.Repeat(0.0, 800).ToArray();
        Assert.Equal(800, WiseStressLoader.CutRepetition(flat, out cut).Length);
        Assert.Equal(-1, cut);
        Assert.Equal("f14", WiseStressLoader.SubjectIdOf("f14_b"));
        Assert.Equal("S02", WiseStressLoader.SubjectIdOf("S02"));
    }

    [SharedDataFact("wise-stress", "subject-info.csv")]
    public void TheSecondLabLoadsWithStressAndCalmRunsForEverySubject()
    {
        var ds = WiseStressLoader.Load(SharedData.Data("wise-stress"));
        foreach (var p in ds.Problems) output.WriteLine(p);
        Assert.True(ds.Subjects.Count >= 20, $"{ds.Subjects.Count} subjects");
        Assert.All(ds.Subjects, s =>
        {
            Assert.Equal("baseline", s.Segments[0].Label);
            Assert.Contains(s.Segments, x => x.Label == "stress");
            Assert.Contains(s.Segments, x => x.Label == "rest");
            Assert.Contains(s.Attributes["gender"], new[] { "male", "female" });
        });
    }
}

public sealed class AdaptationTests
{
    private static ArousalModel Model(AdaptationPrior? prior) => new("t", "binary", ["PPG.PPG_Rate_Mean", "EDA.SCL_Mean"],
        new Evaluation.LinearModel([0f, 0f], [0f, 0f], [0.1f, 1f], [1f, 1f], -2f), new Evaluation.PlattScaling(-1, 0), 0.5, [0.25, 0.5, 0.75], 180, "test", "test")
    {
        Changes = [FeatureChange.Difference, FeatureChange.LogRatio], Adaptation = prior, BaselineRange = [[60, 90], [0.5, 10]],
    };

    private static Dictionary<string, double> W(double hr, double scl) => new() { ["PPG.PPG_Rate_Mean"] = hr, ["EDA.SCL_Mean"] = scl };

    [Fact]
    public void RatingsMoveThisPatientsProbabilitiesTowardsWhatTheyReportAndTheFitNeverDiverges()
    {
        var e = new ArousalEstimator(Model(new AdaptationPrior(0.5, 1, 0.3)));
        e.Calibrate([W(70, 2), W(71, 2.1), W(69, 1.9)]);
        // This patient's stress is mild: +5 bpm and +20 % conductance, which the population model reads as calm-ish.
        double before = e.Estimate(W(75, 2.4)).Probability;
        Assert.True(before < 0.5, $"{before:0.000}");
        Assert.True(e.AddRating(80, [W(75, 2.4), W(76, 2.5), W(74, 2.4)]));
        Assert.True(e.AddRating(10, [W(70, 2.0), W(69, 2.0), W(71, 2.1)]));
        Assert.False(e.AddRating(40, [W(72, 2.2)])); // ambiguous ratings are not used
        var after = e.Estimate(W(75, 2.4));
        Assert.True(after.Probability > before, $"{after.Probability:0.000} vs {before:0.000}");
        Assert.InRange(after.Probability, 0.01, 0.999);
        Assert.Equal(2, e.Ratings);
        Assert.Contains("2 ratings", after.CalibratedBy);
        // Extreme, perfectly separable windows do not blow the fit up (Newton with step halving).
        e.Adapt(Enumerable.Range(0, 50).Select(i => ((IReadOnlyDictionary<string, double>)W(i % 2 == 0 ? 200 : 40, i % 2 == 0 ? 50 : 0.01), i % 2 == 0)));
        var p = e.Estimate(W(75, 2.4)).Probability;
        Assert.True(double.IsFinite(p));
    }

    [Fact]
    public void ABaselineUnlikeTrainingMakesEveryEstimateLowConfidence()
    {
        var e = new ArousalEstimator(Model(null));
        e.Calibrate([W(70, 40), W(71, 41), W(69, 40)]);
        var est = e.Estimate(W(75, 45));
        Assert.True(est.LowConfidence);
        Assert.Contains(est.LowConfidenceReasons, r => r.Contains("skin conductance level"));
        var ok = new ArousalEstimator(Model(null));
        ok.Calibrate([W(70, 2), W(71, 2.1), W(69, 1.9)]);
        Assert.False(ok.Estimate(W(75, 2.4)).LowConfidence);
        Assert.Throws<OpenVret.Signals.SignalInputException>(() => ok.AddRating(130, [W(70, 2)]));
    }
}
