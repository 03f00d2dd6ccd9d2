using System.Reflection;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Session;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Simulation.Tests;

/// <summary>The schedulers see observations only; outcomes are latent and not targetable; the arms are what they claim.</summary>
public sealed class DecouplingTests(ITestOutputHelper output)
{
    /// <summary>Shows a patient through the observable interface only; the latent state is out of reach (no downcast can find it).</summary>
    private sealed class Opaque(IObservedPatient inner) : IObservedPatient
    {
        public bool DroppedOut => inner.DroppedOut;
        public ObservedState Step(double i, ExposureContext c, double d, double m, double s, bool on = true) => inner.Step(i, c, d, m, s, on);
        public double RateExpectancy(double i, ExposureContext c, double d) => inner.RateExpectancy(i, c, d);
        public double EndTrial(double i, ExposureContext c, double d, double o) => inner.EndTrial(i, c, d, o);
        public double MeasuredRestingHeartRate() => inner.MeasuredRestingHeartRate();
        public double MeasuredRestingScl() => inner.MeasuredRestingScl();
    }

    [Theory]
    [InlineData("fixed", "associative")]
    [InlineData("habituation", "dual-process")]
    [InlineData("inhibitory", "latent-cause")]
    public void TreatmentIsTheSameWhenTheLatentStateIsInaccessible(string policy, string model)
    {
        // If the treatment loop or a scheduler reached into a VirtualPatient (a cast to read Latent), the opaque
        // wrapper would change what it can do, and the two sessions below would differ.
        var profile = Cohort.Draw(3, 11)[2];
        var o = new TrialOptions { Sessions = 2 };
        var h = TrialRunner.DefaultHierarchy();
        var rules = RuleSet.Default();
        SessionResult RunWith(Func<VirtualPatient, IObservedPatient> wrap)
        {
            var vp = new VirtualPatient(profile, 5, model);
            var course = new TreatmentCourse(new Patient(profile.Id, h, 180));
            TreatmentSession.Run(wrap(vp), course, policy, 1, 0, o, h, rules, 5);
            return TreatmentSession.Run(wrap(vp), course, policy, 2, 7, o, h, rules, 5);
        }
        var direct = RunWith(vp => vp);
        var opaque = RunWith(vp => new Opaque(vp));
        Assert.Equal(direct.MinutesPerStep, opaque.MinutesPerStep);
        Assert.Equal((direct.PeakSuds, direct.EndSuds, direct.Highest, direct.Holds), (opaque.PeakSuds, opaque.EndSuds, opaque.Highest, opaque.Holds));
    }

    [Fact]
    public void SchedulersCannotReferToTheSimulator()
    {
        var exposure = typeof(OpenVret.Exposure.Scheduling.IExposureScheduler).Assembly;
        Assert.DoesNotContain(exposure.GetReferencedAssemblies(), a => a.Name!.StartsWith("OpenVret.Simulation", StringComparison.Ordinal));
        // What the treatment loop hands out carries no latent type.
        var latent = new[] { typeof(IFearModel), typeof(FearParameters), typeof(VirtualPatient), typeof(PatientProfile), typeof(MeasurementModel) };
        foreach (var t in new[] { typeof(IObservedPatient), typeof(ObservedState), typeof(StateUpdate), typeof(SessionResult) })
            foreach (var m in t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                var types = m switch
                {
                    PropertyInfo p => new[] { p.PropertyType },
                    MethodInfo mi => mi.GetParameters().Select(x => x.ParameterType).Append(mi.ReturnType).ToArray(),
                    _ => Array.Empty<Type>(),
                };
                Assert.DoesNotContain(types, x => latent.Contains(x));
            }
        var patientParameter = typeof(TreatmentSession).GetMethod(nameof(TreatmentSession.Run))!.GetParameters()[0];
        Assert.Equal(typeof(IObservedPatient), patientParameter.ParameterType);
        Assert.DoesNotContain(typeof(ObservedState).GetProperties(), p => p.Name.Contains("Fear", StringComparison.Ordinal));
    }

    [Fact]
    public void ReportsAreNotTheLatentState()
    {
        var baseProfile = Cohort.Draw(1, 3)[0] with { ReportingBias = 0, ReportingNoise = 0.01, ResponseExponent = 1, ExpectancyBias = 0 };
        double MeanSuds(PatientProfile p)
        {
            var m = new MeasurementModel(p, new Random(1));
            return Enumerable.Range(0, 400).Average(_ => m.Observe(0.6).Suds);
        }
        double honest = MeanSuds(baseProfile with { ReportedFraction = 1 });
        double under = MeanSuds(baseProfile with { ReportedFraction = 0.7 });
        output.WriteLine($"SUDS at latent fear 0.6: honest {honest:0.0}, under-reporting {under:0.0}");
        Assert.InRange(honest, 57, 63);
        Assert.InRange(under, 39, 45);
        // The arousal the engine gets is estimated from physiology with population reactivity: a more reactive
        // patient looks more aroused at the same latent fear.
        var calm = new MeasurementModel(baseProfile with { HeartRateReactivity = 20, SclReactivity = 1.5 }, new Random(2));
        var reactive = new MeasurementModel(baseProfile with { HeartRateReactivity = 55, SclReactivity = 5 }, new Random(2));
        double a1 = Enumerable.Range(0, 200).Average(_ => calm.Observe(0.6).ArousalProbability);
        double a2 = Enumerable.Range(0, 200).Average(_ => reactive.Observe(0.6).ArousalProbability);
        Assert.True(a2 > a1 + 0.2, $"{a1:0.00} vs {a2:0.00}");
    }

    [Fact]
    public void DoseMatchedArmGetsTheSameMinutesAtTheSameStepsAndFlagsAreSet()
    {
        var o = new TrialOptions { Patients = 8, Sessions = 3, BootstrapResamples = 200, Models = new[] { "associative" } };
        var r = TrialRunner.Run(o);
        foreach (var g in r.Patients.GroupBy(p => p.Patient))
        {
            var inhibitory = g.Single(p => p.Policy == "inhibitory").Dose;
            var yoked = g.Single(p => p.Policy == TrialRunner.DoseMatchedArm("inhibitory")).Dose;
            for (int k = 0; k < 5; k++) Assert.Equal(inhibitory.MinutesPerStep[k], yoked.MinutesPerStep[k], 1);
            Assert.Equal(0, g.Single(p => p.Policy == TrialRunner.WaitlistArm).Dose.TotalMinutes);
        }
        Assert.All(r.Summaries.Where(s => s.Outcome == "post_top_step"), s => Assert.Equal("targetable", s.Flag));
        Assert.All(r.Summaries.Where(s => s.EffectSizeDz is double z && Math.Abs(z) > 1 && s.Policy != TrialRunner.WaitlistArm && OutcomeAssessment.FearOutcomes.Contains(s.Outcome) && s.Outcome != "post_top_step"),
            s => Assert.StartsWith("implausible", s.Flag));
        Assert.DoesNotContain(r.Summaries, s => s.Flag is not null && s.Flag.StartsWith("implausible", StringComparison.Ordinal) && (s.EffectSizeDz is not double z || Math.Abs(z) <= 1));
    }

    [Fact]
    public void HeldOutProbesAreNeverPresentable()
    {
        var h = TrialRunner.DefaultHierarchy();
        double top = h.Items.Max(i => i.Intensity);
        var probes = OutcomeAssessment.HeldOutIntensities(h);
        Assert.Contains(probes, p => p > top); // beyond the top step: outside every safety envelope
        Assert.DoesNotContain(probes, p => h.Items.Any(i => Math.Abs(i.Intensity - p) < 1e-9));
        Assert.DoesNotContain(OutcomeAssessment.NovelContext.Room, ExposureContext.Rooms);
        Assert.DoesNotContain(FearModels.AcquisitionContext.Room, ExposureContext.Rooms);
    }

    [Fact]
    public void ConclusionsSayWhenTheyHoldUnderOneModelOnly()
    {
        Assert.Equal("lower under all 3 models", TrialRunner.Conclude(new Dictionary<string, string> { ["a"] = "lower", ["b"] = "lower", ["c"] = "lower" }));
        Assert.Contains("only under b", TrialRunner.Conclude(new Dictionary<string, string> { ["a"] = "no relevant difference", ["b"] = "lower", ["c"] = "no relevant difference" }));
        Assert.StartsWith("models disagree", TrialRunner.Conclude(new Dictionary<string, string> { ["a"] = "higher", ["b"] = "lower", ["c"] = "no relevant difference" }));
    }

    [Fact]
    public void HedgesGOfKnownGroups()
    {
        var rng = new Random(4);
        double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var a = Enumerable.Range(0, 4000).Select(_ => 10 + 2 * G()).ToArray();
        var b = Enumerable.Range(0, 4000).Select(_ => 8 + 2 * G()).ToArray();
        Assert.InRange(TrialCalibration.Hedges(a, b), 0.93, 1.07);
    }
}
