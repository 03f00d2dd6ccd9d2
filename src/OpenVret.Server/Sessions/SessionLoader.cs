using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Server.Data;

namespace OpenVret.Server.Sessions;

/// <summary>
/// How a session is set up from its stored record: fresh when it starts, or resumed from the store (the last
/// applied scene step, the highest step reached, the calibrated baseline, the time since it started) when its
/// host restarted: a server restart in single mode, a grain reactivating on another node in cluster mode.
/// One implementation for both hostings.
/// </summary>
public static class SessionLoader
{
    /// <summary>The session's record says it runs since <paramref name="at"/> (through the store writer).</summary>
    public static Task MarkRunningAsync(StoreWriter store, string sessionId, DateTimeOffset at) => store.Run(async d =>
    {
        var rec = await d.Sessions.FindAsync(sessionId);
        rec!.State = SessionState.Running;
        rec.StartedAt = at;
        await d.SaveChangesAsync();
    });

    /// <summary>
    /// The session's record says it ended at <paramref name="at"/>; its devices' tokens and any unused pairing code stop
    /// working with it (a device credential is good for one running session, never after).
    /// </summary>
    public static Task MarkEndedAsync(StoreWriter store, string sessionId, DateTimeOffset at) => store.Run(async d =>
    {
        var rec = await d.Sessions.FindAsync(sessionId);
        rec!.State = SessionState.Ended;
        rec.EndedAt = at;
        rec.PairingCodeHash = null;
        foreach (var device in await d.Devices.Where(x => x.SessionId == sessionId && x.RevokedAt == null).ToListAsync())
            device.RevokedAt = at;
        await d.SaveChangesAsync();
    });

    /// <summary>
    /// A device taken out of the session: its token stops working (it cannot reconnect), a session resumed from the
    /// store (a restart, a failover) does not bring its channels back, and an unused pairing code is withdrawn too, so
    /// whoever held the removed device cannot pair again with a code they may have seen (the therapist issues a new one).
    /// </summary>
    public static Task RevokeDeviceAsync(StoreWriter store, string sessionId, string deviceId, DateTimeOffset at) => store.Run(async d =>
    {
        var device = await d.Devices.FindAsync(deviceId);
        if (device is null || device.SessionId != sessionId) return;
        device.RevokedAt ??= at;
        if (await d.Sessions.FindAsync(sessionId) is { } session) session.PairingCodeHash = null;
        await d.SaveChangesAsync();
    });

    public static async Task<(SessionSetup Setup, string PatientId)> FreshAsync(SessionDb ctx, SessionRecord s, CancellationToken ct = default)
    {
        var patient = await ctx.Patients.AsNoTracking().FirstOrDefaultAsync(p => p.Id == s.PatientId, ct)
            ?? throw new ExposureInputException("patientId", s.PatientId, "no such patient");
        return (new SessionSetup(s.Id, ExposureFiles.ParsePatient(patient.HierarchyJson, $"patient {patient.Id}"), s.Scheduler, SessionHost.ParseMode(s.Mode), s.Seed,
            s.BaselineSeconds, s.SessionNumber, RulesText: s.RulesText), patient.Id);
    }

    public static async Task<(SessionSetup Setup, DateTimeOffset Started)> ResumeAsync(SessionDb ctx, SessionRecord s, TimeProvider clock, CancellationToken ct = default)
    {
        var patient = await ctx.Patients.AsNoTracking().FirstAsync(p => p.Id == s.PatientId, ct);
        var lastScene = await ctx.Entries.AsNoTracking()
            .Where(e => e.SessionId == s.Id && e.Kind == EntryKind.Command && e.Name == "SetScene")
            .OrderByDescending(e => e.Id).Select(e => e.Json).FirstOrDefaultAsync(ct);
        string? item = null, highest = null;
        if (lastScene is not null)
        {
            using var doc = JsonDocument.Parse(lastScene);
            if (doc.RootElement.TryGetProperty("itemId", out var i) && i.ValueKind == JsonValueKind.String) item = i.GetString();
            if (doc.RootElement.TryGetProperty("highestItemId", out var h) && h.ValueKind == JsonValueKind.String) highest = h.GetString();
        }
        var baseline = s.BaselineJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, double>>(s.BaselineJson, SessionActor.Json);
        var started = s.StartedAt ?? clock.GetUtcNow();
        double resumeAt = (clock.GetUtcNow() - started).TotalSeconds;
        var hierarchy = ExposureFiles.ParsePatient(patient.HierarchyJson, $"patient {patient.Id}");
        var setup = new SessionSetup(s.Id, hierarchy, s.Scheduler, SessionHost.ParseMode(s.Mode), s.Seed,
            s.BaselineSeconds, s.SessionNumber, ResumeItemId: item ?? hierarchy.Hierarchy.Items[0].Id,
            HighestItemId: highest, Baseline: baseline, ResumeAtSeconds: resumeAt, RulesText: s.RulesText);
        return (setup, started);
    }
}
