using System.Text.Json;
using OpenVret.Exposure;
using OpenVret.Server.Api;
using OpenVret.Server.Data;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>The session-level variables computed from a session's stored entries (the shapes the pipeline writes).</summary>
public class OutcomeExportTests
{
    private static SessionEntry E(double t, EntryKind kind, string name, object payload) =>
        new() { SessionId = "S", SessionTime = t, Kind = kind, Name = name, Json = JsonSerializer.Serialize(payload, Sessions.SessionActor.Json) };

    [Fact]
    public void Reactivity_slopes_ratings_and_exposure_statistics_come_from_the_stored_entries()
    {
        var entries = new List<SessionEntry>();
        // Baseline: HR 70, SCL 4 (three windows); exposure from t = 100 s: HR rises 80 -> 98 over 9 minutes, SCL 5 -> 7.
        for (int i = 0; i < 3; i++) entries.Add(E(40 + 20 * i, EntryKind.Feature, "window", new { end = 40.0 + 20 * i, values = new Dictionary<string, double> { ["ECG.ECG_Rate_Mean"] = 70, ["EDA.SCL_Mean"] = 4 } }));
        entries.Add(E(100, EntryKind.Event, "baseline_calibrated", new { windows = 3 }));
        for (int m = 0; m < 10; m++)
            entries.Add(E(100 + 60 * m, EntryKind.Feature, "window", new { end = 100.0 + 60 * m, values = new Dictionary<string, double> { ["ECG.ECG_Rate_Mean"] = 80 + 2 * m, ["EDA.SCL_Mean"] = 5 + 0.2 * m } }));
        entries.Add(E(120, EntryKind.Rating, "Suds", new { value = 40.0 }));
        entries.Add(E(300, EntryKind.Rating, "Suds", new { value = 60.0 }));
        entries.Add(E(600, EntryKind.Rating, "Suds", new { value = 20.0 }));
        entries.Add(E(130, EntryKind.Rating, "ExpectancyBefore", new { value = 80.0 }));
        entries.Add(E(250, EntryKind.Rating, "OutcomeAfter", new { value = 10.0 }));
        entries.Add(E(260, EntryKind.Rating, "ExpectancyBefore", new { value = 50.0 }));
        entries.Add(E(400, EntryKind.Rating, "OutcomeAfter", new { value = 20.0 }));
        for (int i = 0; i < 30; i++) entries.Add(E(200 + 2 * i, EntryKind.Arousal, "estimate", new { probability = i < 15 ? 0.9 : 0.3, usable = true }));
        entries.Add(E(310, EntryKind.Safety, "safety_hold", new { text = "hold" }));
        entries.Add(E(320, EntryKind.Command, "SetScene", new { itemId = "h2", highestItemId = "h2" }));
        entries.Add(E(330, EntryKind.Transcript, "patient", new { speakingSeconds = 12.0 }));
        entries.Add(E(340, EntryKind.Transcript, "patient", new { speakingSeconds = 6.0 }));
        var hierarchy = ExposureFiles.ReadPatient(Path.Combine(AppContext.BaseDirectory, "demo", "heights-hierarchy.json")).Hierarchy;
        entries = entries.OrderBy(e => e.SessionTime).ToList();

        var v = OutcomeExport.Summarise(entries, hierarchy).ToDictionary(x => x.Name, x => x.Value);
        Assert.Equal(70, v["hr_baseline_bpm"]);
        Assert.Equal(98 - 70, v["hr_reactivity_bpm"], 6);
        Assert.Equal(2, v["hr_slope_bpm_per_min"], 6);
        Assert.Equal(6.8 - 4, v["scl_reactivity_us"], 6);
        Assert.Equal(0.2, v["scl_slope_us_per_min"], 6);
        Assert.Equal(60, v["suds_peak"]);
        Assert.Equal(20, v["suds_end"]);
        Assert.Equal(80, v["expectancy_first"]);
        Assert.Equal((70 + 30) / 2.0, v["violation_mean"]);
        Assert.Equal(2, v["trials"]);
        Assert.Equal(hierarchy.IndexOf("h2"), v["highest_step"]);
        Assert.Equal(15 * 2 / 60.0, v["minutes_above_ceiling"], 6);
        Assert.Equal(1, v["safety_holds"]);
        Assert.Equal((640 - 100) / 60.0, v["exposure_minutes"], 6);
        Assert.Equal(9, v["speech_s_mean"]);
    }
}
