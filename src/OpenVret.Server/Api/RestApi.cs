using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Exposure.Scheduling;
using OpenVret.Protocol;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;
using OpenVret.Server.Security;
using OpenVret.Server.Sessions;

namespace OpenVret.Server.Api;

public sealed record LoginRequest(string UserName, string Password);
public sealed record MemoryView(string Text, DateTimeOffset? UpdatedAt);
public sealed record MemoryInput(string? Text);
public sealed record AssessmentInput(int? Age, string? Sex, double? BaselineSeverity, double? PostSeverity, double? FollowUpSeverity);
public sealed record UserInfo(int Id, string UserName, string Role);
public sealed record CreateUserRequest(string UserName, string Password, string Role, string? Site = null);
public sealed record PatientInput(string? Id, string? Site, JsonElement Hierarchy, string? Notes);
public sealed record PatientView(string Id, string Site, string Notes, JsonElement Hierarchy, DateTimeOffset CreatedAt);
public sealed record CreateSessionRequest(string PatientId, string? Scheduler, string? Mode, double? BaselineSeconds, int? Seed, int? SessionNumber, string? Rules = null);
public sealed record RulesText(string Text);
public sealed record RulesCheck(bool Valid, IReadOnlyList<string> Rules, string? Error, string? Field, int? Line);
public sealed record SessionView(string Id, string PatientId, int SessionNumber, string Scheduler, string Mode, double BaselineSeconds, string State,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, LiveView? Live);
public sealed record PairingCode(string SessionId, string Code, DateTimeOffset ExpiresAt);
public sealed record EntryView(long Id, double SessionTime, string Kind, string Name, JsonElement Payload);

/// <summary>The REST side of the server: everything that is not real-time. Errors are RFC 7807 problems naming the field.</summary>
public static class RestApi
{
    private static readonly Regex PatientIdPattern = new("^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$", RegexOptions.Compiled);

    /// <summary>Replay rate limits (Hz) for a CSV recording: the device protocol's channel range.</summary>
    public const double MinReplayRateHz = 1, MaxReplayRateHz = 2000;
    /// <summary>Longest free text: patient notes, and a therapist's reason (why) on the audit trail.</summary>
    public const int MaxNotesLength = 20_000, MaxSessionNumber = 1000;

    /// <summary>A value cut short for an error message (a 100,000-character input is not echoed back).</summary>
    public static string Cut(string? value) => ProtocolException.Shown(value);

    public static IResult Problem(string field, string value, string problem, int status = 400) =>
        Results.Problem(title: $"{field}: {problem}", detail: $"{field} = '{value}': {problem}", statusCode: status,
            extensions: new Dictionary<string, object?> { ["field"] = field, ["value"] = value });

    private static string Actor(ClaimsPrincipal u) => "user:" + u.FindFirstValue(ClaimTypes.NameIdentifier);

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api");
        var therapist = api.MapGroup("").RequireAuthorization(Policies.Therapist);
        // Every therapist endpoint is in one of three groups: it names a session, names a patient, or reaches no one
        // site's record through its route (lists filtered by the caller's site, bodies checked by the endpoint).
        var sessionScoped = therapist.MapGroup("").ForSession();
        var patientScoped = therapist.MapGroup("").ForPatient();
        var unscoped = therapist.MapGroup("").NoSiteResource("lists are filtered by the caller's site; bodies naming a patient or site are checked by the endpoint; the rest is no site's data");
        // Site scope: the therapist policy checks the record each endpoint's route names (ForSession/ForPatient; Security/SiteScope.cs).
        var admin = api.MapGroup("").RequireAuthorization(Policies.Admin);

        // ------------------------------------------------------------------------------------- auth, users (AuthApi.cs)
        AuthApi.Map(api);

        // ------------------------------------------------------------------------------------- patients
        unscoped.MapGet("/patients", async (ClaimsPrincipal u, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var scope = SiteAccess.Scope(u);
            var list = await ctx.Patients.AsNoTracking().Where(p => scope == null || p.Site == scope).OrderBy(p => p.Id).ToListAsync();
            return Results.Ok(list.Select(ToView));
        });

        patientScoped.MapGet("/patients/{id}", async (string id, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var p = await ctx.Patients.FindAsync(id);
            return p is null ? Problem("id", id, "no such patient", 404) : Results.Ok(ToView(p));
        });

        // What the virtual humans remember about a patient: read and edited by the therapist, audited.
        patientScoped.MapGet("/patients/{id}/memory", async (string id, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var p = await ctx.Patients.FindAsync(id);
            return p is null ? Problem("id", id, "no such patient", 404) : Results.Ok(new MemoryView(p.AgentMemory ?? "", p.AgentMemoryUpdatedAt));
        });

        patientScoped.MapPut("/patients/{id}/memory", async (string id, MemoryInput input, ClaimsPrincipal u, DbFactory db, StoreWriter store, TimeProvider clock) =>
        {
            OpenVret.Dialogue.Memory.PatientMemory memory;
            try { memory = OpenVret.Dialogue.Memory.PatientMemory.FromTherapist(input.Text ?? ""); }
            catch (OpenVret.Dialogue.Personas.DialogueInputException e) { return Problem(e.Field, e.Value, e.Message); }
            await using var ctx = db.Create();
            var p = await ctx.Patients.FindAsync(id);
            if (p is null) return Problem("id", id, "no such patient", 404);
            p.AgentMemory = memory.Text;
            p.AgentMemoryUpdatedAt = clock.GetUtcNow();
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "memory_edited", null, $"{id}: {memory.Text.Length} characters");
            return Results.Ok(new MemoryView(p.AgentMemory, p.AgentMemoryUpdatedAt));
        });

        // Clinical assessment for outcome research, and the session-level dataset (docs/outcome.md).
        patientScoped.MapPut("/patients/{id}/assessment", async (string id, AssessmentInput a, ClaimsPrincipal u, DbFactory db, StoreWriter store) =>
        {
            if (a.Age is int age && age is < 0 or > 120) return Problem("age", age.ToString(), "years, 0-120");
            if (a.Sex is { Length: > 20 }) return Problem("sex", a.Sex, "at most 20 characters");
            foreach (var (field, v) in new[] { ("baselineSeverity", a.BaselineSeverity), ("postSeverity", a.PostSeverity), ("followUpSeverity", a.FollowUpSeverity) })
                if (v is double x && !(double.IsFinite(x) && x >= 0 && x <= 1000)) return Problem(field, x.ToString(System.Globalization.CultureInfo.InvariantCulture), "a score from 0 to 1000 on the clinic's scale");
            await using var ctx = db.Create();
            var p = await ctx.Patients.FindAsync(id);
            if (p is null) return Problem("id", id, "no such patient", 404);
            (p.Age, p.Sex, p.BaselineSeverity, p.PostSeverity, p.FollowUpSeverity) = (a.Age, a.Sex, a.BaselineSeverity, a.PostSeverity, a.FollowUpSeverity);
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "assessment_edited", null, id);
            return Results.Ok(a);
        });

        // Per site or across sites (pooled: patient ids re-pseudonymised with the deployment's export key).
        unscoped.MapGet("/outcome-dataset", async (string? site, bool? pooled, ClaimsPrincipal u, DbFactory db, StoreWriter store, ServerOptions options) =>
        {
            site = string.IsNullOrWhiteSpace(site) ? null : site;
            if (SiteAccess.Scope(u) is { } own)
            {
                if (site is not null && site != own) return Problem("site", site, $"you may export only your site '{own}'", 403);
                site = own;
            }
            if (pooled == true && options.ExportPseudonymKey is not { Length: >= 16 })
                return Problem("pooled", "true", "a pooled export needs OpenVret:ExportPseudonymKey (16+ characters) in the configuration");
            await using var ctx = db.Create();
            var records = await OutcomeExport.BuildAsync(ctx, site);
            if (pooled == true) records = records.Select(r => r with { Patient = SiteAccess.PoolPseudonym(options.ExportPseudonymKey!, r.Site, r.Patient) }).ToList();
            var w = new StringWriter();
            OpenVret.Learning.Outcome.OutcomeSchema.Write(w, records);
            await store.Audit(Actor(u), "data_export", null, $"outcome dataset, site {site ?? "all"}{(pooled == true ? ", pooled pseudonyms" : "")}, {records.Count} patients");
            return Results.Text(w.ToString(), "text/csv");
        });

        unscoped.MapGet("/personas", (OpenVret.Server.Dialogue.AgentService agents) => Results.Ok(new
        {
            llm = agents.LlmConfigured,
            modes = new[] { "local-keywords", "global-keywords", "speaking-time", "therapist" },
            personas = OpenVret.Dialogue.Personas.Persona.BuiltInIds.Select(OpenVret.Dialogue.Personas.Persona.BuiltIn).Select(p => new { p.Id, p.Name, p.Role, p.Tone }),
        }));

        unscoped.MapPost("/patients", async (PatientInput input, ClaimsPrincipal u, DbFactory db, StoreWriter store, TimeProvider clock) =>
        {
            string id = input.Id ?? "P-" + Secrets.NewToken()[..8];
            if (SiteAccess.Scope(u) is { } own && input.Site is { } wanted && wanted != own) return Problem("site", Cut(wanted), $"you work at site '{own}'", 403);
            input = input with { Site = input.Site ?? SiteAccess.Scope(u) };
            if (!PatientIdPattern.IsMatch(id)) return Problem("id", Cut(id), "a pseudonymous id: 3-40 letters, digits, '_' or '-' (never a name or a record number)");
            if (input.Site is { } site && !PatientIdPattern.IsMatch(site)) return Problem("site", Cut(site), "a site code: 3-40 letters, digits, '_' or '-'");
            if (input.Notes is { Length: > MaxNotesLength } notes) return Problem("notes", $"{notes.Length} characters", $"at most {MaxNotesLength} characters");
            if (input.Hierarchy.ValueKind != JsonValueKind.Object) return Problem("hierarchy", input.Hierarchy.ValueKind.ToString(), "expected the hierarchy object (see samples/exposure)");
            var obj = System.Text.Json.Nodes.JsonNode.Parse(input.Hierarchy.GetRawText())!.AsObject();
            obj["patient"] = id;
            string json = obj.ToJsonString();
            try { ExposureFiles.ParsePatient(json, "hierarchy"); }
            catch (ExposureInputException e) { return Problem(e.Field.StartsWith("hierarchy", StringComparison.Ordinal) ? e.Field : "hierarchy." + e.Field, e.Value, e.Message); }
            await using var ctx = db.Create();
            if (await ctx.Patients.AnyAsync(p => p.Id == id)) return Problem("id", id, "already exists", 409);
            var rec = new PatientRecord { Id = id, Site = input.Site ?? "default", HierarchyJson = json, Notes = input.Notes ?? "", CreatedAt = clock.GetUtcNow() };
            ctx.Patients.Add(rec);
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "patient_created", null, id);
            return Results.Created($"/api/patients/{id}", ToView(rec));
        });

        // ------------------------------------------------------------------------------------- sessions
        unscoped.MapPost("/sessions", async (CreateSessionRequest req, ClaimsPrincipal u, DbFactory db, StoreWriter store, ServerOptions options, TimeProvider clock, SiteAccess access) =>
        {
            if (req.PatientId is not null && !await access.CanReachPatientAsync(u, req.PatientId)) return Problem("patientId", req.PatientId, "belongs to another site than yours", 403);
            string scheduler = req.Scheduler ?? "inhibitory", mode = req.Mode ?? "suggest";
            try { Schedulers.Create(scheduler); SessionHost.ParseMode(mode); if (req.Rules is not null) OpenVret.Exposure.Rules.RuleSet.Parse(req.Rules, "rules"); }
            catch (ExposureInputException e) { return Problem(e.Field, e.Value, e.Message); }
            if (req.SessionNumber is int number && number is < 1 or > MaxSessionNumber)
                return Problem("sessionNumber", number.ToString(CultureInfo.InvariantCulture), $"the session's number in the course of treatment: 1 to {MaxSessionNumber}");
            if (req.Rules is { Length: > 100_000 } rulesText) return Problem("rules", $"{rulesText.Length} characters", "a rule file of at most 100,000 characters");
            double baseline = req.BaselineSeconds ?? options.BaselineSeconds;
            if (!(baseline >= SessionPipeline.WindowSeconds && baseline <= 1800))
                return Problem("baselineSeconds", baseline.ToString(CultureInfo.InvariantCulture), $"between {SessionPipeline.WindowSeconds} s (one feature window) and 1800 s");
            await using var ctx = db.Create();
            if (!await ctx.Patients.AnyAsync(p => p.Id == req.PatientId)) return Problem("patientId", req.PatientId ?? "", "no such patient", 404);
            var code = Secrets.NewPairingCode();
            var s = new SessionRecord
            {
                Id = "S-" + Secrets.NewToken()[..12], PatientId = req.PatientId!, Scheduler = scheduler, Mode = mode, Seed = req.Seed ?? Random.Shared.Next(),
                BaselineSeconds = baseline, SessionNumber = req.SessionNumber ?? 1, State = SessionState.Created, CreatedAt = clock.GetUtcNow(),
                PairingCodeHash = Secrets.Hash(code), PairingExpiresAt = clock.GetUtcNow().AddMinutes(options.PairingMinutes),
                CreatedByUserId = int.Parse(u.FindFirstValue(ClaimTypes.NameIdentifier)!, CultureInfo.InvariantCulture),
                RulesText = req.Rules,
            };
            ctx.Sessions.Add(s);
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "session_created", s.Id, $"patient {s.PatientId}, {scheduler}, {mode}");
            return Results.Created($"/api/sessions/{s.Id}", new { session = ToView(s, null), pairing = new PairingCode(s.Id, code, s.PairingExpiresAt!.Value) });
        });

        sessionScoped.MapPost("/sessions/{id}/pairing-code", async (string id, ClaimsPrincipal u, DbFactory db, StoreWriter store, ServerOptions options, TimeProvider clock) =>
        {
            await using var ctx = db.Create();
            var s = await ctx.Sessions.FindAsync(id);
            if (s is null) return Problem("id", id, "no such session", 404);
            if (s.State == SessionState.Ended) return Problem("id", id, "the session has ended", 409);
            var code = Secrets.NewPairingCode();
            s.PairingCodeHash = Secrets.Hash(code);
            s.PairingExpiresAt = clock.GetUtcNow().AddMinutes(options.PairingMinutes);
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "pairing_code", id, "new code issued");
            return Results.Ok(new PairingCode(id, code, s.PairingExpiresAt.Value));
        });

        unscoped.MapGet("/sessions", async (ClaimsPrincipal u, DbFactory db, SessionHost host) =>
        {
            await using var ctx = db.Create();
            // Sorted here: SQLite cannot order by a DateTimeOffset column.
            var scope = SiteAccess.Scope(u);
            var list = scope is null ? await ctx.Sessions.AsNoTracking().ToListAsync()
                : await ctx.Sessions.AsNoTracking().Join(ctx.Patients.Where(p => p.Site == scope), s => s.PatientId, p => p.Id, (s, p) => s).ToListAsync();
            return Results.Ok(list.OrderByDescending(s => s.CreatedAt).Take(500).Select(s => ToView(s, null)));
        });

        sessionScoped.MapGet("/sessions/{id}", async (string id, DbFactory db, ISessionDirectory host) =>
        {
            await using var ctx = db.Create();
            var s = await ctx.Sessions.FindAsync(id);
            if (s is null) return Problem("id", id, "no such session", 404);
            LiveView? live = null;
            try { if (await host.FindAsync(id) is { } a) live = await a.ViewAsync(); }
            catch (SessionNotRunningException) { }   // it ended a moment ago (on another node)
            return Results.Ok(ToView(s, live));
        });

        sessionScoped.MapPost("/sessions/{id}/start", async (string id, ClaimsPrincipal u, ISessionDirectory host, DbFactory db) =>
        {
            try { await host.StartAsync(id, Actor(u)); }
            catch (ExposureInputException e) { return Problem(e.Field, e.Value, e.Message, e.Message.Contains("no such") ? 404 : 409); }
            await using var ctx = db.Create();
            var s = await ctx.Sessions.AsNoTracking().FirstAsync(x => x.Id == id);
            return Results.Ok(ToView(s, await (await host.FindAsync(id))!.ViewAsync()));
        });

        sessionScoped.MapPost("/sessions/{id}/replay", async (string id, IFormFile file, [Microsoft.AspNetCore.Mvc.FromForm] double? rate,
            [Microsoft.AspNetCore.Mvc.FromForm] string? speed, ClaimsPrincipal u, ISessionDirectory host, DbFactory db, ServerOptions options) =>
        {
            if (speed is not (null or "max" or "realtime")) return Problem("speed", Cut(speed), "max (as fast as possible) or realtime");
            bool realTime = speed == "realtime";
            if (rate is double hz && !(double.IsFinite(hz) && hz >= MinReplayRateHz && hz <= MaxReplayRateHz))
                return Problem("rate", hz.ToString(CultureInfo.InvariantCulture), $"the CSV's sampling rate: a finite number of Hz from {MinReplayRateHz} to {MaxReplayRateHz}");
            // A name of our own choosing (the client's name could be '..', a path or a device name); only the extension counts.
            string ext = Path.GetExtension(file.FileName ?? "").ToLowerInvariant() is var x && x is ".zip" or ".csv" or ".edf" or ".hea" ? x : "";
            string shownName = Cut(Path.GetFileName(file.FileName ?? "") is { Length: > 0 } fn ? fn : "upload");
            var dir = Path.Combine(options.UploadFolder ?? Path.GetTempPath(), "openvret-upload-" + Secrets.NewToken()[..10]);
            // Errors name the upload as the user knows it, never the server's folders.
            string Hide(string text) => text.Replace(dir + Path.DirectorySeparatorChar + "unpacked", "(zip)").Replace(dir, "(upload)");
            Directory.CreateDirectory(dir);
            try
            {
                var path = Path.Combine(dir, "upload" + ext);
                await using (var f = File.Create(path)) await file.CopyToAsync(f);
                if (ext == ".zip")
                {
                    // An E4 folder (or any recording) sent as a zip: unpack (within limits) and use the folder that holds the files.
                    var unpacked = Path.Combine(dir, "unpacked");
                    await using (var z = File.OpenRead(path))
                        UploadUnpacker.Unpack(z, shownName, unpacked, options.ReplayMaxUnpackedBytes, options.ReplayMaxEntries, options.ReplayMaxCompressionRatio);
                    File.Delete(path);
                    var inner = Directory.GetDirectories(unpacked);
                    path = Directory.GetFiles(unpacked).Length == 0 && inner.Length == 1 ? inner[0] : unpacked;
                    var single = Directory.GetFiles(path).Where(f => f.EndsWith(".edf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".hea", StringComparison.OrdinalIgnoreCase)).ToList();
                    if (!File.Exists(Path.Combine(path, "EDA.csv")) && single.Count == 1) path = single[0];
                }
                var recording = Signals.Readers.RecordingLoader.Load(path, rate, out var notes);
                await host.StartReplayAsync(id, recording, realTime, Actor(u));
                await using var ctx = db.Create();
                var s = await ctx.Sessions.AsNoTracking().FirstAsync(x => x.Id == id);
                return Results.Accepted($"/api/sessions/{id}", new { session = ToView(s, null), channels = recording.Channels.Count,
                    seconds = recording.Channels.Max(c => c.Signal.EndSeconds) - recording.Channels.Min(c => c.Signal.StartSeconds), notes = notes.Select(Hide), realTime });
            }
            catch (UploadRefusedException e) { return Problem(e.Field, e.Value, e.Problem); }
            catch (Signals.SignalInputException e) { return Problem(e.Field, Hide(e.Value), Hide(e.Problem)); }
            catch (ExposureInputException e) { return Problem(e.Field, e.Value, e.Message, e.Message.Contains("no such") ? 404 : 409); }
            catch (System.IO.InvalidDataException) { return Problem("file", shownName, "not a readable zip archive"); }
            finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
        }).DisableAntiforgery();   // the session cookie is SameSite=Strict, so a cross-site form cannot carry it

        sessionScoped.MapPost("/sessions/{id}/end", async (string id, ClaimsPrincipal u, ISessionDirectory host) =>
        {
            try { await host.EndAsync(id, Actor(u)); }
            catch (ExposureInputException e) { return Problem(e.Field, e.Value, e.Message, 409); }
            return Results.NoContent();
        });

        sessionScoped.MapGet("/sessions/{id}/entries", async (string id, string? kind, long? after, int? limit, DbFactory db) =>
        {
            EntryKind? k = null;
            if (kind is not null)
            {
                if (!Enum.TryParse<EntryKind>(kind, true, out var parsed)) return Problem("kind", kind, $"one of {string.Join(", ", Enum.GetNames<EntryKind>())}");
                k = parsed;
            }
            int take = Math.Clamp(limit ?? 500, 1, 5000);
            await using var ctx = db.Create();
            if (!await ctx.Sessions.AnyAsync(x => x.Id == id)) return Problem("id", id, "no such session", 404);
            var q = ctx.Entries.AsNoTracking().Where(e => e.SessionId == id && e.Id > (after ?? 0));
            if (k is not null) q = q.Where(e => e.Kind == k);
            var rows = await q.OrderBy(e => e.Id).Take(take).ToListAsync();
            return Results.Ok(rows.Select(e => new EntryView(e.Id, e.SessionTime, e.Kind.ToString(), e.Name, JsonDocument.Parse(e.Json).RootElement)));
        });

        sessionScoped.MapGet("/sessions/{id}/report", async (string id, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var d = await SessionReport.LoadAsync(ctx, id);
            return d is null ? Problem("id", id, "no such session", 404) : Results.Ok(d.Summary);
        });

        sessionScoped.MapGet("/sessions/{id}/report.png", async (string id, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var d = await SessionReport.LoadAsync(ctx, id);
            return d is null ? Problem("id", id, "no such session", 404) : Results.File(SessionReport.Png(d), "image/png", $"{id}-report.png");
        });

        unscoped.MapGet("/pairing-qr", (string code, HttpContext http) =>
        {
            if (code is null || code.Length != 8) return Problem("code", code ?? "", "an 8-character pairing code");
            // The QR carries the server address and the code, which is all a headset needs to pair.
            string payload = JsonSerializer.Serialize(new { server = $"{http.Request.Scheme}://{http.Request.Host}", code });
            using var gen = new QRCoder.QRCodeGenerator();
            using var data = gen.CreateQrCode(payload, QRCoder.QRCodeGenerator.ECCLevel.M);
            return Results.Text(new QRCoder.SvgQRCode(data).GetGraphic(6), "image/svg+xml");
        });

        unscoped.MapGet("/rules/default", () => Results.Ok(new RulesText(OpenVret.Exposure.Rules.RuleSet.DefaultText())));

        // Checks a rule file exactly as a session would load it: the exposure engine's error names the field and line.
        unscoped.MapPost("/rules/validate", (RulesText body) =>
        {
            try
            {
                var rules = OpenVret.Exposure.Rules.RuleSet.Parse(body.Text ?? "", "rules");
                return Results.Ok(new RulesCheck(true, rules.Rules.Select(r => $"{r.Id}: when {string.Join(" and ", r.When)} then {r.Then}").ToList(), null, null, null));
            }
            catch (ExposureInputException e) { return Results.Ok(new RulesCheck(false, Array.Empty<string>(), e.Message, e.Field, e.Line)); }
        });

        unscoped.MapGet("/scenarios", () => Results.Ok(OpenVret.Exposure.Domain.ScenarioCatalog.All.Select(s => new
        {
            s.Id, s.Name, parameters = s.Parameters.Select(p => new { p.Name, p.Unit, p.Min, p.Max, p.Default, p.IsSwitch, p.Description }),
        })));

        sessionScoped.MapGet("/sessions/{id}/export", async (string id, ClaimsPrincipal u, DbFactory db, StoreWriter store) =>
        {
            await using var ctx = db.Create();
            if (await ctx.Sessions.FindAsync(id) is null) return Problem("id", id, "no such session", 404);
            byte[] bytes;
            try { bytes = await SessionExport.ArchiveAsync(ctx, id); }
            catch (InvalidDataException e) { return Problem("sampleBlocks", id, $"the stored samples are damaged: {e.Message}", 500); }
            await store.Audit(Actor(u), "export", id, $"session archive, {bytes.Length} bytes");
            return Results.File(bytes, "application/zip", $"{id}.zip");
        });

        // ------------------------------------------------------------------------------------- devices
        api.MapPost("/pair", async (PairingRequest req, DbFactory db, StoreWriter store, TimeProvider clock) =>
        {
            if (req?.Code is null || req.Code.Length != 8) return Problem("code", req?.Code ?? "", "the 8-character pairing code shown in the console");
            if (string.IsNullOrWhiteSpace(req.DeviceName) || req.DeviceName.Length > 64) return Problem("deviceName", req.DeviceName ?? "", "1-64 characters");
            if (!Enum.IsDefined(req.Role)) return Problem("role", req.Role.ToString(), "Sensor, VrClient or SensorAndVr");
            var hash = Secrets.Hash(req.Code.ToUpperInvariant());
            await using var ctx = db.Create();
            var s = await ctx.Sessions.FirstOrDefaultAsync(x => x.PairingCodeHash == hash);
            var now = clock.GetUtcNow();
            if (s is null || s.PairingExpiresAt < now || s.State == SessionState.Ended)
            {
                await store.Audit("anonymous", "pairing_failed", null, "unknown or expired code");
                return Results.Problem(title: "code: unknown or expired pairing code; ask the therapist for a new one", statusCode: 401);
            }
            // A code pairs one device: claimed atomically, so two devices racing with one code cannot both get a token.
            int claimed = await ctx.Sessions.Where(x => x.Id == s.Id && x.PairingCodeHash == hash)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.PairingCodeHash, (string?)null));
            if (claimed == 0)
            {
                await store.Audit("anonymous", "pairing_failed", s.Id, "code already used");
                return Results.Problem(title: "code: unknown or expired pairing code; ask the therapist for a new one", statusCode: 401);
            }
            var token = Secrets.NewToken();
            var device = new DeviceRecord { Id = "D-" + Secrets.NewToken()[..10], SessionId = s.Id, Name = req.DeviceName, Role = req.Role.ToString(), TokenHash = Secrets.Hash(token), CreatedAt = now };
            ctx.Devices.Add(device);
            await ctx.SaveChangesAsync();
            await store.Audit(device.Id, "device_paired", s.Id, $"{req.Role} '{req.DeviceName}'");
            return Results.Ok(new PairingResult(s.Id, device.Id, token, ProtocolVersion.Current));
        }).AllowAnonymous().RequireRateLimiting("pairing");

        // ------------------------------------------------------------------------------------- audit
        admin.MapGet("/audit/verify", async (DbFactory db, AuditKeys keys, ServerOptions options) =>
        {
            await using var ctx = db.Create();
            return Results.Ok(await AuditChain.VerifyAsync(ctx, new AuditChain.Verifier(keys.LinkKey, keys.Verifier, AuditCheckpointFiles.Folder(options))));
        });

        admin.MapGet("/stats", (ServerMetrics metrics, StoreWriter store, bool? reset) =>
        {
            var snap = metrics.Snapshot(store);
            if (reset == true) metrics.ResetLatency();
            return Results.Ok(snap);
        });

        admin.MapGet("/audit", async (long? after, int? limit, DbFactory db) =>
        {
            await using var ctx = db.Create();
            var rows = await ctx.Audit.AsNoTracking().Where(a => a.Sequence > (after ?? 0)).OrderBy(a => a.Sequence).Take(Math.Clamp(limit ?? 500, 1, 5000)).ToListAsync();
            return Results.Ok(rows);
        });
    }

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static PatientView ToView(PatientRecord p) => new(p.Id, p.Site, p.Notes, JsonDocument.Parse(p.HierarchyJson, Lenient).RootElement, p.CreatedAt);

    private static SessionView ToView(SessionRecord s, LiveView? live) =>
        new(s.Id, s.PatientId, s.SessionNumber, s.Scheduler, s.Mode, s.BaselineSeconds, s.State.ToString(), s.CreatedAt, s.StartedAt, s.EndedAt, live);
}

public static class Policies
{
    public const string Therapist = "therapist";
    public const string Admin = "admin";
}
