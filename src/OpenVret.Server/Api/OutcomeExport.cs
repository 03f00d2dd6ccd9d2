using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Learning.Outcome;
using OpenVret.Server.Data;

namespace OpenVret.Server.Api;

/// <summary>
/// The outcome-prediction dataset from the server's records (docs/outcome.md): one row per patient with the
/// therapist's assessment (age, sex, baseline/post/follow-up severity) and, for each ended session in order,
/// the session-level variables computed from what the session stored: heart rate and skin conductance
/// (baseline = the calibration phase; reactivity = exposure peak minus baseline; slopes per minute of exposure),
/// SUDS course, expectancy checks, trials, highest hierarchy step, time above the arousal ceiling, safety holds,
/// and exposure minutes; plus mean speaking time when a virtual human was used.
/// </summary>
public static class OutcomeExport
{
    private const double Ceiling = 0.85, HopMinutes = 2.0 / 60;

    public static async Task<List<OutcomeRecord>> BuildAsync(SessionDb ctx, string? site, CancellationToken ct = default)
    {
        var patients = await ctx.Patients.AsNoTracking().Where(p => site == null || p.Site == site).OrderBy(p => p.Id).ToListAsync(ct);
        var ids = patients.Select(p => p.Id).ToList();
        var sessions = (await ctx.Sessions.AsNoTracking().Where(s => ids.Contains(s.PatientId) && s.State == SessionState.Ended && s.Source == "live").ToListAsync(ct))
            .OrderBy(s => s.SessionNumber).ThenBy(s => s.CreatedAt).ToList();
        var list = new List<OutcomeRecord>();
        foreach (var p in patients)
        {
            var numeric = new Dictionary<string, double>(StringComparer.Ordinal);
            var categorical = new Dictionary<string, string>(StringComparer.Ordinal);
            var outcomes = new Dictionary<string, double>(StringComparer.Ordinal);
            if (p.Age is int age) numeric["age"] = age;
            if (!string.IsNullOrWhiteSpace(p.Sex)) categorical["sex"] = p.Sex.ToLowerInvariant();
            if (p.BaselineSeverity is double b) numeric["baseline_severity"] = b;
            if (p.PostSeverity is double post) outcomes["post_severity"] = post;
            if (p.FollowUpSeverity is double fu) outcomes["followup_severity"] = fu;
            OutcomeSchema.DeriveResponder(numeric, outcomes);
            var hierarchy = ExposureFiles.ParsePatient(p.HierarchyJson, "hierarchy").Hierarchy;
            int k = 0;
            foreach (var s in sessions.Where(s => s.PatientId == p.Id))
            {
                k++;
                var entries = await ctx.Entries.AsNoTracking().Where(e => e.SessionId == s.Id && e.Kind != EntryKind.Fault).OrderBy(e => e.Id).ToListAsync(ct);
                foreach (var (name, value) in Summarise(entries, hierarchy))
                    if (double.IsFinite(value)) numeric[$"s{k}_{name}"] = Math.Round(value, 3);
            }
            numeric["sessions_attended"] = k;
            list.Add(new OutcomeRecord(p.Id, p.Site, numeric, categorical, outcomes));
        }
        return list;
    }

    /// <summary>The session variables of one session from its stored entries (missing ones are left out).</summary>
    public static IEnumerable<(string Name, double Value)> Summarise(IReadOnlyList<SessionEntry> entries, Exposure.Domain.FearHierarchy hierarchy)
    {
        double exposureStart = entries.FirstOrDefault(e => e.Kind == EntryKind.Event && e.Name == "baseline_calibrated")?.SessionTime ?? double.NaN;
        double end = entries.Count > 0 ? entries.Max(e => e.SessionTime) : double.NaN;
        bool InExposure(SessionEntry e) => !double.IsNaN(exposureStart) && e.SessionTime >= exposureStart;
        var hr = new List<(double T, double V)>();
        var scl = new List<(double T, double V)>();
        var hrBase = new List<double>();
        var sclBase = new List<double>();
        var suds = new List<(double T, double V)>();
        var expectancy = new List<double>();
        var outcome = new List<double>();
        var speech = new List<double>();
        int above = 0, holds = 0, highest = -1;
        foreach (var e in entries)
        {
            using var doc = JsonDocument.Parse(e.Json);
            var root = doc.RootElement;
            switch (e.Kind)
            {
                case EntryKind.Feature when root.TryGetProperty("values", out var values):
                    double t = root.TryGetProperty("end", out var endEl) ? endEl.GetDouble() : e.SessionTime;
                    var h = First(values, "ECG.ECG_Rate_Mean", "PPG.PPG_Rate_Mean");
                    var c = First(values, "EDA.SCL_Mean");
                    if (InExposure(e)) { if (h is double hv) hr.Add((t, hv)); if (c is double cv) scl.Add((t, cv)); }
                    else { if (h is double hv) hrBase.Add(hv); if (c is double cv) sclBase.Add(cv); }
                    break;
                case EntryKind.Rating when root.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number:
                    if (e.Name == "Suds") suds.Add((e.SessionTime, v.GetDouble()));
                    else if (e.Name == "ExpectancyBefore") expectancy.Add(v.GetDouble());
                    else if (e.Name == "OutcomeAfter") outcome.Add(v.GetDouble());
                    break;
                case EntryKind.Arousal when root.TryGetProperty("probability", out var pr) && root.TryGetProperty("usable", out var usable) && usable.GetBoolean():
                    if (pr.GetDouble() >= Ceiling) above++;
                    break;
                case EntryKind.Safety when e.Name == "safety_hold":
                    holds++;
                    break;
                case EntryKind.Command when e.Name == "SetScene" && root.TryGetProperty("highestItemId", out var hi) && hi.ValueKind == JsonValueKind.String:
                    if (hierarchy.Items.Any(x => x.Id == hi.GetString())) highest = Math.Max(highest, hierarchy.IndexOf(hi.GetString()!));
                    break;
                case EntryKind.Transcript when e.Name == "patient" && root.TryGetProperty("speakingSeconds", out var sp) && sp.ValueKind == JsonValueKind.Number:
                    speech.Add(sp.GetDouble());
                    break;
            }
        }
        if (hrBase.Count > 0) yield return ("hr_baseline_bpm", Median(hrBase));
        if (hrBase.Count > 0 && hr.Count > 0) yield return ("hr_reactivity_bpm", hr.Max(x => x.V) - Median(hrBase));
        if (hr.Count >= 3) yield return ("hr_slope_bpm_per_min", Slope(hr));
        if (sclBase.Count > 0 && scl.Count > 0) yield return ("scl_reactivity_us", scl.Max(x => x.V) - Median(sclBase));
        if (scl.Count >= 3) yield return ("scl_slope_us_per_min", Slope(scl));
        if (suds.Count > 0)
        {
            yield return ("suds_peak", suds.Max(x => x.V));
            yield return ("suds_end", suds[^1].V);
            if (suds.Count >= 3) yield return ("suds_slope_per_min", Slope(suds));
        }
        if (expectancy.Count > 0) yield return ("expectancy_first", expectancy[0]);
        int pairs = Math.Min(expectancy.Count, outcome.Count);
        if (pairs > 0) yield return ("violation_mean", Enumerable.Range(0, pairs).Average(i => expectancy[i] - outcome[i]));
        yield return ("trials", outcome.Count);
        if (highest >= 0) yield return ("highest_step", highest);
        yield return ("minutes_above_ceiling", above * HopMinutes);
        yield return ("safety_holds", holds);
        if (!double.IsNaN(exposureStart)) yield return ("exposure_minutes", (end - exposureStart) / 60);
        if (speech.Count > 0) yield return ("speech_s_mean", speech.Average());
    }

    private static double? First(JsonElement values, params string[] names)
    {
        foreach (var n in names)
            if (values.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        return null;
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Least-squares slope per minute of (seconds, value) points.</summary>
    private static double Slope(List<(double T, double V)> pts)
    {
        double mt = pts.Average(p => p.T / 60), mv = pts.Average(p => p.V);
        double sxx = pts.Sum(p => (p.T / 60 - mt) * (p.T / 60 - mt));
        return sxx > 0 ? pts.Sum(p => (p.T / 60 - mt) * (p.V - mv)) / sxx : 0;
    }
}
