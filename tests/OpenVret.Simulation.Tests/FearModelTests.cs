using OpenVret.Exposure.Domain;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Simulation.Tests;

/// <summary>
/// The extinction phenomena under each generative model. Each model is asserted to show what its published form
/// predicts, including where it predicts nothing (the dual-process model has no contexts, so no renewal).
/// </summary>
public sealed class FearModelTests(ITestOutputHelper output)
{
    private static readonly ExposureContext B = new("living_room", "dim", "evening", "ambient");
    private const double Stimulus = 0.6;

    private static void Session(IFearModel m, ExposureContext ctx, double day, int trials)
    {
        for (int i = 0; i < trials; i++)
        {
            double f = m.Fear(Stimulus, ctx, day, i * 2);
            m.Expose(Stimulus, f, 2);
            m.Learn(Stimulus, ctx, day, 0);
        }
    }

    [Theory]
    [InlineData("associative")]
    [InlineData("latent-cause")]
    [InlineData("dual-process")]
    public void ExtinctionLowersFearAcrossSessions(string model)
    {
        var m = FearModels.Create(model, new FearParameters());
        double before = m.Expectancy(Stimulus, B, 0);
        for (int s = 0; s < 5; s++) Session(m, B, 7 * s, 10);
        double after = m.Expectancy(Stimulus, B, 29);
        output.WriteLine($"{model}: {before:0.00} -> {after:0.00}");
        Assert.True(after < 0.8 * before);
    }

    [Theory]
    [InlineData("associative", true)]
    [InlineData("latent-cause", true)]
    [InlineData("dual-process", false)]
    public void RenewalOnlyWhereTheModelHasContexts(string model, bool renews)
    {
        var m = FearModels.Create(model, new FearParameters());
        for (int s = 0; s < 4; s++) Session(m, B, 7 * s, 10);
        double inB = m.Expectancy(Stimulus, B, 22), inA = m.Expectancy(Stimulus, FearModels.AcquisitionContext, 22);
        output.WriteLine($"{model}: B {inB:0.00}, A {inA:0.00}");
        if (renews) Assert.True(inA > inB + 0.05);
        else Assert.Equal(inB, inA, 6);
    }

    [Theory]
    [InlineData("associative", 0.05)]
    [InlineData("latent-cause", 0.002)] // weak in this simplified version: the extinction causes keep the context (docs/simulation.md)
    [InlineData("dual-process", 0.05)]
    public void ReinstatementRaisesFear(string model, double atLeast)
    {
        var m = FearModels.Create(model, new FearParameters());
        for (int s = 0; s < 4; s++) Session(m, B, 7 * s, 10);
        double before = m.Expectancy(Stimulus, B, 30);
        m.Reinstate(B, 30);
        double after = m.Expectancy(Stimulus, B, 30);
        output.WriteLine($"{model}: {before:0.00} -> {after:0.00} after an unsignalled aversive event");
        Assert.True(after > before + atLeast);
    }

    [Fact]
    public void LatentCauseModelInfersANewCauseForASurprisingContextAndRecoversWithTime()
    {
        var m = new LatentCauseFearModel(new FearParameters());
        Assert.Equal(1, m.Causes);
        Session(m, B, 0, 10);
        Assert.True(m.Causes >= 2);
        double soon = m.Expectancy(Stimulus, B, 1), late = m.Expectancy(Stimulus, B, 200);
        output.WriteLine($"latent-cause spontaneous recovery: day 1 {soon:0.000}, day 200 {late:0.000}");
        Assert.True(late >= soon);
    }

    [Fact]
    public void DualProcessHabituatesWithinASessionAndRecoversBetween()
    {
        var m = new DualProcessFearModel(new FearParameters());
        double first = m.Fear(0.3, B, 0, 0);
        for (int minute = 1; minute <= 20; minute++) m.Expose(0.3, m.Fear(0.3, B, 0, minute), 1);
        double last = m.Fear(0.3, B, 0, 20);
        double nextDay = m.Fear(0.3, B, 1, 0);
        output.WriteLine($"dual-process: {first:0.00} -> {last:0.00} in session, {nextDay:0.00} next day");
        Assert.True(last < 0.8 * first);
        Assert.True(nextDay > last);
    }
}
