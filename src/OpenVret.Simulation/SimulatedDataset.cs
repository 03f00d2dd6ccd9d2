using System.Globalization;
using System.Text;

namespace OpenVret.Simulation;

/// <summary>
/// Writes simulated subjects in the generic labelled-recording layout (ROOT/labels.csv plus Empatica E4-format
/// ACC/BVP/EDA/TEMP files per subject), so that models trained on one dataset can be checked on virtual
/// patients from other "sites". Protocol per subject: rest (unlabelled) 3 min, baseline 20 min (arousal 0.1),
/// rest 3 min, stress 10 min (0.8), rest 5 min, amusement 6 min (0.3), with smooth transitions.
/// Physiology comes from <see cref="SignalGenerator"/>; sites from <see cref="Cohort"/>.
/// </summary>
public static class SimulatedDataset
{
    private static readonly (string? Label, double Minutes, double Arousal)[] Protocol =
    {
        (null, 3, 0.15), ("baseline", 20, 0.1), (null, 3, 0.15), ("stress", 10, 0.8), (null, 5, 0.2), ("amusement", 6, 0.3),
    };

    public static void Write(string root, int subjects, int seed, double startUnix = 1_700_000_000)
    {
        Directory.CreateDirectory(root);
        var labels = new StringBuilder("subject,label,start_unix,end_unix\n");
        var profiles = Cohort.Draw(subjects, seed);
        for (int s = 0; s < subjects; s++)
        {
            var p = profiles[s];
            string id = $"SIM{s + 1:00}-{p.Site}";
            string dir = Path.Combine(root, id);
            Directory.CreateDirectory(dir);
            // Piecewise-constant arousal with 60 s ramps between phases (+ slow individual wobble).
            var phases = new List<(double Start, double End, double Arousal, string? Label)>();
            double t = 0;
            foreach (var (label, minutes, arousal) in Protocol) { phases.Add((t, t + minutes * 60, arousal, label)); t += minutes * 60; }
            double Arousal(double time)
            {
                int k = phases.FindIndex(ph => time < ph.End);
                if (k < 0) k = phases.Count - 1;
                double a = phases[k].Arousal;
                if (k > 0 && time - phases[k].Start < 60) a = phases[k - 1].Arousal + (a - phases[k - 1].Arousal) * (time - phases[k].Start) / 60;
                return Math.Clamp(a + 0.05 * Math.Sin(time / 97.0 + s), 0, 1);
            }
            var gen = new SignalGenerator(p, seed * 1000 + s, new GeneratorRates(Ppg: 64, Eda: 4, Temperature: 4, Accelerometer: 32));
            var acc = new StringBuilder(); var bvp = new StringBuilder(); var eda = new StringBuilder(); var temp = new StringBuilder();
            string Header(double rate, int columns) => string.Join(",", Enumerable.Repeat(startUnix.ToString("0.000000", CultureInfo.InvariantCulture), columns)) + "\n"
                + string.Join(",", Enumerable.Repeat(rate.ToString("0.000000", CultureInfo.InvariantCulture), columns)) + "\n";
            acc.Append(Header(32, 3)); bvp.Append(Header(64, 1)); eda.Append(Header(4, 1)); temp.Append(Header(4, 1));
            for (double done = 0; done < t; done += 60)
            {
                var c = gen.Next(Math.Min(60, t - done), Arousal);
                for (int i = 0; i < c.AccX.Length; i++) acc.Append((int)Math.Round(c.AccX[i] * 64)).Append(',').Append((int)Math.Round(c.AccY[i] * 64)).Append(',').Append((int)Math.Round(c.AccZ[i] * 64)).Append('\n');
                foreach (var v in c.Ppg) bvp.Append((v * 50).ToString("0.00", CultureInfo.InvariantCulture)).Append('\n');
                foreach (var v in c.Eda) eda.Append(v.ToString("0.000000", CultureInfo.InvariantCulture)).Append('\n');
                foreach (var v in c.Temperature) temp.Append(v.ToString("0.00", CultureInfo.InvariantCulture)).Append('\n');
            }
            File.WriteAllText(Path.Combine(dir, "ACC.csv"), acc.ToString());
            File.WriteAllText(Path.Combine(dir, "BVP.csv"), bvp.ToString());
            File.WriteAllText(Path.Combine(dir, "EDA.csv"), eda.ToString());
            File.WriteAllText(Path.Combine(dir, "TEMP.csv"), temp.ToString());
            foreach (var ph in phases.Where(ph => ph.Label is not null))
                labels.Append(CultureInfo.InvariantCulture, $"{id},{ph.Label},{startUnix + ph.Start + 60:0.###},{startUnix + ph.End:0.###}\n");
        }
        File.WriteAllText(Path.Combine(root, "labels.csv"), labels.ToString());
    }
}
