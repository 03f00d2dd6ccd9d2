using OpenVret.Simulation;
using ScottPlot;

namespace OpenVret.Cli;

/// <summary>PNG figures of an in-silico trial (ScottPlot): outcomes per policy with 95 % intervals of the mean.</summary>
public static class TrialPlots
{
    public static IReadOnlyList<string> Write(TrialReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>
        {
            Bars(report, folder, "fear.png", $"Fear over all steps (0-1), model {report.Options.Models[0]}: post, held-out stimuli, renewal, follow-up",
                new[] { ("post_all_steps", "post"), ("generalisation_stimuli", "held-out stimuli"), ("renewal_abc", "renewal ABC"), ("followup_spontaneous_recovery", "follow-up") }),
            Bars(report, folder, "safety.png", "Safety per patient: holds, alerts, minutes above the arousal ceiling",
                new[] { ("safety_holds", "holds"), ("alerts", "alerts"), ("minutes_above_ceiling", "minutes above ceiling") }),
            Bars(report, folder, "sessions.png", $"Sessions to criterion ({report.Options.Sessions + 1} = not reached)",
                new[] { ("sessions_to_criterion", "sessions") }),
        };
        return files;
    }

    private static string Bars(TrialReport report, string folder, string file, string title, (string Outcome, string Label)[] groups)
    {
        var plt = new Plot();
        var policies = report.Options.Policies;
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (int g = 0; g < groups.Length; g++)
            for (int p = 0; p < policies.Count; p++)
            {
                var values = report.Patients.Where(x => x.Policy == policies[p] && x.Model == report.Options.Models[0]).Select(x => TrialRunner.Value(x, groups[g].Outcome)).ToArray();
                double mean = values.Average();
                double se = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) / values.Length) : 0;
                bars.Add(new Bar
                {
                    Position = g * (policies.Count + 1) + p,
                    Value = mean,
                    Error = 1.96 * se,
                    FillColor = palette.GetColor(p),
                });
            }
        plt.Add.Bars(bars);
        var ticks = groups.Select((gr, g) => new Tick(g * (policies.Count + 1) + (policies.Count - 1) / 2.0, gr.Label)).ToArray();
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        for (int p = 0; p < policies.Count; p++)
            plt.Legend.ManualItems.Add(new LegendItem { LabelText = policies[p], FillColor = palette.GetColor(p) });
        plt.ShowLegend(Alignment.UpperRight);
        plt.Title(title, size: 13);
        plt.Axes.Margins(bottom: 0);
        string path = Path.Combine(folder, file);
        plt.SavePng(path, 900, 500);
        return path;
    }
}
