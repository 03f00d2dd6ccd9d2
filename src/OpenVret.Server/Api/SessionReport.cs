using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;
using ScottPlot;

namespace OpenVret.Server.Api;

/// <summary>The post-session report: time courses of arousal, heart rate, skin conductance, SUDS and expectancy with the
/// exposure steps and decisions marked (PNG, ScottPlot), and a summary table.</summary>
public static class SessionReport
{
    public sealed record Series(double[] T, double[] Y);
    public sealed record Step(double At, string? ItemId, string Kind, string Reason);
    public sealed record Summary(string SessionId, string PatientId, string State, double DurationSeconds, int Proposals, int Applied, int Rejected,
        int Vetoed, int Overrides, int SafetyEvents, int Alerts, double? PeakSuds, double? MeanArousal, double? PeakHeartRate,
        IReadOnlyList<Step> Steps, JsonElement? NextSessionPlan);

    public sealed record Data(Summary Summary, Series Arousal, Series HeartRate, Series Scl, Series Suds, Series Expectancy, IReadOnlyList<(double At, string Kind)> Decisions);

    public static async Task<Data?> LoadAsync(SessionDb db, string sessionId)
    {
        var s = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(x => x.Id == sessionId);
        if (s is null) return null;
        var entries = await db.Entries.AsNoTracking().Where(e => e.SessionId == sessionId).OrderBy(e => e.Id).ToListAsync();
        var arousal = new List<(double, double)>(); var hr = new List<(double, double)>(); var scl = new List<(double, double)>();
        var suds = new List<(double, double)>(); var exp = new List<(double, double)>();
        var steps = new List<Step>(); var decisions = new List<(double, string)>();
        int proposals = 0, applied = 0, rejected = 0, vetoed = 0, overrides = 0, safety = 0, alerts = 0;
        JsonElement? plan = null;
        foreach (var e in entries)
        {
            using var doc = JsonDocument.Parse(e.Json);
            var r = doc.RootElement;
            switch (e.Kind)
            {
                case EntryKind.Arousal when r.TryGetProperty("usable", out var u) && u.GetBoolean():
                    arousal.Add((e.SessionTime, r.GetProperty("probability").GetDouble())); break;
                case EntryKind.Feature when r.TryGetProperty("values", out var v):
                    foreach (var name in new[] { "ECG.ECG_Rate_Mean", "PPG.PPG_Rate_Mean" })
                        if (v.TryGetProperty(name, out var x)) { hr.Add((e.SessionTime, x.GetDouble())); break; }
                    if (v.TryGetProperty("EDA.SCL_Mean", out var sc)) scl.Add((e.SessionTime, sc.GetDouble()));
                    break;
                case EntryKind.Rating when r.TryGetProperty("value", out var val) && val.ValueKind == JsonValueKind.Number:
                    (e.Name == "Suds" ? suds : exp).Add((e.SessionTime, val.GetDouble())); break;
                case EntryKind.Proposal: proposals++; break;
                case EntryKind.Decision:
                    if (e.Name == "applied") applied++;
                    if (e.Name == "rejected") rejected++;
                    if (e.Name == "vetoed") vetoed++;
                    decisions.Add((e.SessionTime, e.Name));
                    break;
                case EntryKind.Override: overrides++; break;
                case EntryKind.Safety: safety++; break;
                case EntryKind.Alert when e.Name != "acknowledged": alerts++; break;
                case EntryKind.Command when e.Name is "SetScene" or "Pause" or "Resume" or "CalmScene":
                    steps.Add(new Step(e.SessionTime, r.TryGetProperty("itemId", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null, e.Name,
                        r.GetProperty("command").GetProperty("reason").GetString() ?? ""));
                    break;
                case EntryKind.Event when e.Name == "next_session_plan": plan = r.Clone(); break;
            }
        }
        static Series S(List<(double T, double Y)> x) => new(x.Select(p => p.T).ToArray(), x.Select(p => p.Y).ToArray());
        double duration = entries.Count == 0 ? 0 : entries.Max(e => e.SessionTime);
        var summary = new Summary(s.Id, s.PatientId, s.State.ToString(), duration, proposals, applied, rejected, vetoed, overrides, safety, alerts,
            suds.Count > 0 ? suds.Max(x => x.Item2) : null, arousal.Count > 0 ? arousal.Average(x => x.Item2) : null, hr.Count > 0 ? hr.Max(x => x.Item2) : null,
            steps, plan);
        return new Data(summary, S(arousal), S(hr), S(scl), S(suds), S(exp), decisions);
    }

    /// <summary>Four stacked panels sharing the time axis (minutes); vertical lines mark scene changes (blue) and therapist decisions (orange).</summary>
    public static byte[] Png(Data d, int width = 1100, int height = 900)
    {
        var multi = new Multiplot();
        multi.AddPlots(4);
        var panels = new (string Title, Series S, string Unit)[]
        {
            ("Arousal (calibrated probability)", d.Arousal, "p"), ("Heart rate", d.HeartRate, "bpm"),
            ("Skin conductance level", d.Scl, "uS"), ("SUDS and expectancy", d.Suds, "0-100"),
        };
        for (int i = 0; i < 4; i++)
        {
            var plt = multi.GetPlot(i);
            var (title, s, unit) = panels[i];
            if (s.T.Length > 0)
            {
                var sc = plt.Add.Scatter(s.T.Select(t => t / 60).ToArray(), s.Y);
                sc.LegendText = i == 3 ? "SUDS" : title;
                if (i == 3) sc.MarkerSize = 7;
            }
            if (i == 3 && d.Expectancy.T.Length > 0)
            {
                var ex = plt.Add.Scatter(d.Expectancy.T.Select(t => t / 60).ToArray(), d.Expectancy.Y);
                ex.LegendText = "expectancy";
                ex.LineWidth = 0;
                ex.MarkerSize = 7;
                plt.ShowLegend();
            }
            foreach (var st in d.Summary.Steps)
            {
                var l = plt.Add.VerticalLine(st.At / 60);
                l.Color = st.Kind == "Pause" ? Colors.Red : Colors.SteelBlue;
                l.LineWidth = 1;
            }
            foreach (var (at, _) in d.Decisions)
            {
                var l = plt.Add.VerticalLine(at / 60);
                l.Color = Colors.Orange.WithAlpha(0.6);
                l.LinePattern = LinePattern.Dashed;
            }
            if (i == 0) plt.Axes.SetLimitsY(0, 1);
            if (i == 3) plt.Axes.SetLimitsY(0, 100);
            plt.Title(title);
            plt.YLabel(unit);
            if (i == 3) plt.XLabel("session time (min)");
        }
        return multi.Render(width, height).GetImageBytes(ImageFormat.Png);
    }
}
