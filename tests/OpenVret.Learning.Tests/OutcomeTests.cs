using System.Diagnostics;
using OpenVret.Learning.Evaluation;
using OpenVret.Learning.Outcome;
using OpenVret.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Learning.Tests;

/// <summary>Simulated multi-site cohorts with a known generating process, shared by the outcome tests (simulated once).</summary>
public sealed class CohortFixture
{
    public List<OutcomeRecord> Natural { get; } = OutcomeCohort.Simulate(new CohortOptions { Sites = 4, PatientsPerSite = 150, Sessions = 5, Signal = CohortSignal.Natural, Seed = 11 });
    public List<OutcomeRecord> None { get; } = OutcomeCohort.Simulate(new CohortOptions { Sites = 4, PatientsPerSite = 60, Sessions = 5, Signal = CohortSignal.None, Seed = 11 });
    public OutcomeOptions Options { get; } = new() { Sessions = 3, Repeats = 2, Seed = 3 };
}

public sealed class OutcomeTests(CohortFixture cohorts, ITestOutputHelper output) : IClassFixture<CohortFixture>
{
    private void Show(ValidationResult r)
    {
        output.WriteLine(r.Scheme);
        foreach (var m in r.Models) output.WriteLine($"  {m.Name}: AUROC {m.Metrics.Auroc:0.000} Brier {m.Metrics.Brier:0.000} ECE {m.Metrics.Ece:0.000}");
        foreach (var c in r.Comparisons.Where(c => c.Metric == "AUROC")) output.WriteLine($"  {c.Model}: {c.Difference:+0.000;-0.000} [{c.Low:+0.000;-0.000}, {c.High:+0.000;-0.000}] {c.Verdict}");
    }

    [Fact]
    public void When_session_data_carry_signal_the_multimodal_model_beats_the_clinical_baseline_across_sites()
    {
        var r = OutcomeValidation.LeaveOneSiteOut(cohorts.Natural, cohorts.Options);
        Show(r);
        Assert.Equal(4, r.Folds.Count);
        Assert.All(r.Folds, f => Assert.True(f.Disjoint && !f.TrainingSites.Contains(f.Test)));
        var best = r.Comparisons.Where(c => c.Metric == "AUROC").MaxBy(c => c.Low)!;
        Assert.True(best.Low > 0, $"expected a confidence interval above zero, got [{best.Low:0.000}, {best.High:0.000}]");
        Assert.Equal("added value over the clinical baseline", best.Verdict);
        Assert.All(r.Models, m => Assert.Equal(cohorts.Natural.Count, m.Predictions.Count));
        Assert.Contains(r.Subgroups, g => g.Attribute == "site");
        Assert.NotEmpty(r.Models[1].Importance);
        Assert.Equal(12, r.Models[1].DecisionCurve.Count);
    }

    [Fact]
    public void Clinical_comparator_has_a_spline_on_baseline_severity()
    {
        var f = OutcomeFeatures.Clinical(cohorts.Natural);
        Assert.Contains("rcs1_baseline_severity", f.Columns);
        var x = f.Vector(cohorts.Natural[0]);
        double sev = cohorts.Natural[0].Numeric["baseline_severity"];
        Assert.Equal(Spline.Term(sev, 1), x[f.Columns.ToList().IndexOf("rcs1_baseline_severity")], 4);
        // Zero below the first knot, and linear beyond the last (restricted cubic spline).
        Assert.Equal(0, Spline.Term(2, 1));
        double d1 = Spline.Term(98, 1) - Spline.Term(97, 1), d2 = Spline.Term(99, 1) - Spline.Term(98, 1);
        Assert.Equal(d1, d2, 6);
        foreach (var site in cohorts.Natural.Select(r => r.Site).Distinct())
            output.WriteLine($"{site}: baseline severity {cohorts.Natural.Where(r => r.Site == site).Average(r => r.Numeric["baseline_severity"]):0.0}, responders {cohorts.Natural.Where(r => r.Site == site).Average(r => r.Outcomes["responder"]):P0}");
    }

    [Fact]
    public void When_session_data_carry_no_signal_the_report_says_there_is_no_added_value()
    {
        foreach (var r in new[] { OutcomeValidation.LeaveOneSiteOut(cohorts.None, cohorts.Options), OutcomeValidation.RepeatedNestedCv(cohorts.None, cohorts.Options) })
        {
            Show(r);
            foreach (var c in r.Comparisons.Where(c => c.Metric == "AUROC"))
                Assert.True(c.Verdict.StartsWith("no added value", StringComparison.Ordinal) || c.Verdict.StartsWith("worse", StringComparison.Ordinal), $"{r.Scheme}, {c.Model}: {c.Verdict} [{c.Low:0.000}, {c.High:0.000}]");
        }
    }

    [Fact]
    public void Leave_one_site_out_never_learns_from_the_site_it_predicts()
    {
        // A feature that is the outcome itself, but present only at site-A: a model that saw site-A's rows would
        // predict site-A perfectly; one that did not cannot use it at all.
        var leaky = cohorts.Natural.Select(r => r.Site != "site-A" ? r : r with
        {
            Numeric = new Dictionary<string, double>(r.Numeric) { ["s1_answer"] = r.Outcomes["responder"] },
        }).ToList();
        var siteA = leaky.Where(r => r.Site == "site-A").Select(r => r.Patient).ToHashSet();
        double AurocA(ValidationResult v) => BinaryMetrics.AurocOf(v.Models[1].Predictions.Where(p => siteA.Contains(p.Subject)).ToList());
        var siteOut = OutcomeValidation.LeaveOneSiteOut(leaky, cohorts.Options);
        var siteOutClean = OutcomeValidation.LeaveOneSiteOut(cohorts.Natural, cohorts.Options);
        var cv = OutcomeValidation.RepeatedNestedCv(leaky, cohorts.Options with { Repeats = 1 });
        var cvClean = OutcomeValidation.RepeatedNestedCv(cohorts.Natural, cohorts.Options with { Repeats = 1 });
        output.WriteLine($"site-A AUROC: leave-one-site-out {AurocA(siteOutClean):0.000} -> {AurocA(siteOut):0.000} with the planted feature; " +
                         $"cross-validation (site-A in training) {AurocA(cvClean):0.000} -> {AurocA(cv):0.000}");
        Assert.True(AurocA(cv) - AurocA(cvClean) > 0.1, "positive control: with site-A in training, the planted feature is found");
        Assert.True(Math.Abs(AurocA(siteOut) - AurocA(siteOutClean)) < 0.01, "leave-one-site-out used site-A's own rows");
    }

    [Fact]
    public void Saved_models_score_an_external_dataset_exactly_as_they_were_trained()
    {
        var train = cohorts.Natural.Where(r => r.Site != "site-D").ToList();
        var external = cohorts.Natural.Where(r => r.Site == "site-D").ToList();
        var fitted = OutcomeValidation.Models(3).Select(m => (m.Name, OutcomeValidation.Fit(train, m.Features(train), m.Kind, "responder", r => r.Site, 3, 1))).ToList();
        var folder = Directory.CreateTempSubdirectory("outcome-models").FullName;
        OutcomeModelStore.Save(folder, fitted, "responder", 3);
        var loaded = OutcomeModelStore.Load(folder);
        for (int i = 0; i < fitted.Count; i++)
            foreach (var r in external.Take(10))
                Assert.Equal(fitted[i].Item2.Probability(fitted[i].Item2.Features.Vector(r)), loaded[i].Fitted.Probability(loaded[i].Fitted.Features.Vector(r)), 6);
        var result = OutcomeModelStore.Evaluate(loaded, external, new OutcomeOptions { BootstrapResamples = 500 });
        Show(result);
        Assert.Equal(external.Count, result.Models[0].Metrics.N);
        Assert.Equal(2 * 3, result.Comparisons.Count);
    }

    [Fact]
    public void The_schema_round_trips_and_bad_data_are_named_by_column_row_and_value()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("outcome").FullName, "cohort.csv");
        using (var w = new StreamWriter(path)) OutcomeSchema.Write(w, cohorts.Natural.Take(20).ToList());
        var back = OutcomeSchema.Read(path);
        Assert.Equal(20, back.Count);
        Assert.Equal(cohorts.Natural[0].Numeric["s1_suds_peak"], back[0].Numeric["s1_suds_peak"]);
        Assert.Equal(cohorts.Natural[0].Outcomes["responder"], back[0].Outcomes["responder"]);

        OutcomeDataException Bad(string csv) => Assert.Throws<OutcomeDataException>(() => OutcomeSchema.Read(new StringReader(csv), "site", "test.csv"));
        var e = Bad("patient,site,baseline_severity,responder\nP1,A,seventy,1\n");
        Assert.Equal("baseline_severity", e.Column);
        Assert.Equal(2, e.Row);
        Assert.Contains("seventy", e.Message);
        Assert.Equal("patient", Bad("patient,site,responder\nP1,A,1\nP1,B,0\n").Column);
        Assert.Equal("height_cm", Bad("patient,site,height_cm\nP1,A,170\n").Column);
        Assert.Equal("clinic", Assert.Throws<OutcomeDataException>(() => OutcomeSchema.Read(new StringReader("patient,site\nP1,A\n"), "clinic", "x")).Column);
        Assert.Equal("responder", Bad("patient,site,responder\nP1,A,2\n").Column);
        // responder derived from follow-up severity when the column is absent
        var derived = OutcomeSchema.Read(new StringReader("patient,site,baseline_severity,followup_severity\nP1,A,80,30\nP2,A,80,50\n"), "site", "x");
        Assert.Equal(1, derived[0].Outcomes["responder"]);
        Assert.Equal(0, derived[1].Outcomes["responder"]);
    }

    [Fact]
    public void Outcome_train_writes_a_report_folder_with_verdicts_plots_and_a_model_card()
    {
        var dir = Directory.CreateTempSubdirectory("outcome-cli").FullName;
        var data = Path.Combine(dir, "cohort.csv");
        using (var w = new StreamWriter(data)) OutcomeSchema.Write(w, cohorts.Natural);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "openvret.dll"), "outcome", "train", "--data", data, "--site-column", "site", "--sessions", "3", "--repeats", "1", "--out", Path.Combine(dir, "report") })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000));
        output.WriteLine(stdout.Result);
        Assert.True(p.ExitCode == 0, stderr.Result);
        var report = File.ReadAllText(Path.Combine(dir, "report", "report.md"));
        Assert.Contains("leave-one-site-out", report);
        Assert.Contains("added value over the clinical baseline", report);
        foreach (var f in new[] { "metrics.json", "model-card.md", "predictions.csv", "decision-curve-1.png", "reliability-1-1.png", "models/models.json" })
            Assert.True(File.Exists(Path.Combine(dir, "report", f)), f);
    }
}
