using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Learning.Outcome;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Site as a first-class attribute: therapists bound to a site reach only it; pooled exports are re-pseudonymised.</summary>
public static class MultiSiteScenarios
{
    public const string ExportKey = "test-export-key-0123456789";

    public static async Task Therapists_reach_only_their_site_and_pooled_exports_are_pseudonymised(TestServer s)
    {
        var admin = await s.LoginAsync();
        foreach (var (user, site) in new[] { ("therapist.a", "site-a"), ("therapist.b", "site-b") })
            Assert.Equal(HttpStatusCode.Created, (await admin.Http.PostAsJsonAsync("/api/users", new { userName = user, password = "a-long-password-1", role = "therapist", site })).StatusCode);
        var a = await s.CreateSessionAsync(admin, patientId: "PA-1", site: "site-a");
        var b = await s.CreateSessionAsync(admin, patientId: "PB-1", site: "site-b");
        foreach (var (patient, severity) in new[] { ("PA-1", 60), ("PB-1", 80) })
            (await admin.Http.PutAsJsonAsync($"/api/patients/{patient}/assessment", new { age = 40, sex = "m", baselineSeverity = severity })).EnsureSuccessStatusCode();

        var ta = await s.LoginAsync("therapist.a", "a-long-password-1");
        var patients = await ta.Http.GetFromJsonAsync<JsonElement>("/api/patients");
        Assert.Equal(["PA-1"], patients.EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToArray());
        var forbidden = await ta.Http.GetAsync("/api/patients/PB-1");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("another site", await forbidden.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await ta.Http.GetAsync($"/api/sessions/{b.SessionId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ta.Http.PostAsync($"/api/sessions/{b.SessionId}/end", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ta.Http.PostAsJsonAsync("/api/sessions", new { patientId = "PB-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ta.Http.PostAsJsonAsync("/api/patients", new { id = "PB-2", site = "site-b", hierarchy = TestServer.DemoHierarchy })).StatusCode);
        Assert.DoesNotContain((await ta.Http.GetFromJsonAsync<JsonElement>("/api/sessions")).EnumerateArray(), x => x.GetProperty("id").GetString() == b.SessionId);
        Assert.Equal(HttpStatusCode.OK, (await ta.Http.GetAsync($"/api/sessions/{a.SessionId}")).StatusCode);
        var console = await s.ConsoleConnectionAsync(ta);
        var hub = await Assert.ThrowsAsync<HubException>(() => console.InvokeAsync<JsonElement>("Watch", b.SessionId));
        Assert.Contains("another site", hub.Message);
        await console.InvokeAsync<JsonElement>("Watch", a.SessionId);
        await console.DisposeAsync();

        // Exports: a site therapist gets only their site; the admin gets all, and pooled ids only with the key.
        Assert.Equal(HttpStatusCode.Forbidden, (await ta.Http.GetAsync("/api/outcome-dataset?site=site-b")).StatusCode);
        foreach (var id in new[] { a.SessionId, b.SessionId }) (await admin.Http.PostAsync($"/api/sessions/{id}/end", null)).EnsureSuccessStatusCode();
        var own = OutcomeSchema.Read(new StringReader(await ta.Http.GetStringAsync("/api/outcome-dataset")), "site", "export");
        Assert.Equal(["PA-1"], own.Select(r => r.Patient).ToArray());
        var all = OutcomeSchema.Read(new StringReader(await admin.Http.GetStringAsync("/api/outcome-dataset")), "site", "export");
        Assert.Equal(["PA-1", "PB-1"], all.Select(r => r.Patient).OrderBy(x => x).ToArray());
        Assert.Equal(1, all.Single(r => r.Patient == "PA-1").Numeric["sessions_attended"]);
        var pooled = await admin.Http.GetAsync("/api/outcome-dataset?pooled=true");
        if (s.Settings.TryGetValue("OpenVret:ExportPseudonymKey", out var key) && key is not null)
        {
            var first = OutcomeSchema.Read(new StringReader(await pooled.Content.ReadAsStringAsync()), "site", "pooled");
            var second = OutcomeSchema.Read(new StringReader(await admin.Http.GetStringAsync("/api/outcome-dataset?pooled=true")), "site", "pooled");
            Assert.All(first, r => Assert.StartsWith("X-", r.Patient));
            Assert.DoesNotContain(first, r => r.Patient.Contains("PA-1") || r.Patient.Contains("PB-1"));
            Assert.Equal(first.Select(r => r.Patient).OrderBy(x => x), second.Select(r => r.Patient).OrderBy(x => x));
            Assert.Equal([60.0, 80.0], first.Select(r => r.Numeric["baseline_severity"]).OrderBy(x => x).ToArray());
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, pooled.StatusCode);
            Assert.Contains("ExportPseudonymKey", await pooled.Content.ReadAsStringAsync());
        }
        var audit = await admin.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        Assert.True(audit.EnumerateArray().Count(x => x.GetProperty("action").GetString() == "data_export") >= 2);
    }
}
