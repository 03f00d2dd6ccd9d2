// OpenVRET therapist console: static page + @microsoft/signalr + uPlot. Talks to /api (REST) and /hubs/console.
"use strict";
(() => {
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
    return e;
  };
  const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x)) ? "–" : Number(x).toFixed(d);
  const params = (p) => Object.entries(p || {}).map(([k, v]) => `${k} = ${fmt(v, v % 1 ? 2 : 0)}`).join(", ") || "–";

  async function api(path, options = {}) {
    const r = await fetch(path, { credentials: "same-origin", headers: options.body && !(options.body instanceof FormData) ? { "Content-Type": "application/json" } : {}, ...options });
    if (r.status === 401 && !path.startsWith("/api/auth/login")) { show("login"); throw new Error("not logged in"); }
    const text = await r.text();
    const body = text ? (() => { try { return JSON.parse(text); } catch { return text; } })() : null;
    if (!r.ok) throw new Error(body && body.title ? body.title : `${r.status}`);
    return body;
  }

  function show(name) {
    for (const v of ["login", "home", "live", "report"]) $(`#view-${v}`).hidden = v !== name;
    $("#logout").hidden = name === "login";
  }

  // ------------------------------------------------------------------------------------------ login
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      const me = await api("/api/auth/login", { method: "POST", body: JSON.stringify({ userName: $("#login-user").value, password: $("#login-password").value }) });
      $("#who").textContent = `${me.userName} (${me.role})`;
      location.hash = "#/";
      route();
    } catch (e) { $("#login-error").textContent = `Login failed: ${e.message}`; }
  });
  $("#logout").addEventListener("click", async () => { await api("/api/auth/logout", { method: "POST" }); stopLive(); show("login"); });

  // ------------------------------------------------------------------------------------------ home
  let createdSession = null, homeTimer = null;
  async function home() {
    show("home");
    clearInterval(homeTimer);
    // The list refreshes itself, so a session that starts (e.g. the demo) appears without reloading.
    homeTimer = setInterval(() => { if (!$("#view-home").hidden) refreshSessions().catch(() => {}); else clearInterval(homeTimer); }, 3000);
    const [, patients] = await Promise.all([refreshSessions(), api("/api/patients")]);
    $("#ns-patient").replaceChildren(...patients.map(p => el("option", { value: p.id }, `${p.id} (${p.site})`)));
    $("#patients").replaceChildren(...patients.map(p => el("li", {}, `${p.id} (${p.site}) — ${p.notes || "no notes"}; ${(p.hierarchy.items || []).length} hierarchy steps: ` +
      (p.hierarchy.items || []).map(i => i.label || i.id).join(" → "))));
    if (!$("#np-hierarchy").value) $("#np-hierarchy").value = JSON.stringify({ heartRateLimitBpm: 150, items: patients.length ? patients[0].hierarchy.items : [] }, null, 2);
    if (!$("#ns-rules").value) { defaultRules = (await api("/api/rules/default")).text; $("#ns-rules").value = defaultRules; }
    const current = $("#mem-patient").value;
    $("#mem-patient").replaceChildren(...patients.map(p => el("option", { value: p.id }, p.id)));
    if (current) $("#mem-patient").value = current;
    await loadMemory();
  }
  async function loadMemory() {
    const id = $("#mem-patient").value;
    if (!id) return;
    const m = await api(`/api/patients/${encodeURIComponent(id)}/memory`);
    $("#mem-text").value = m.text;
    $("#mem-status").textContent = m.updatedAt ? `last updated ${new Date(m.updatedAt).toLocaleString()}` : "empty until the first session ends";
  }
  $("#mem-patient").addEventListener("change", loadMemory);
  $("#mem-save").addEventListener("click", async () => {
    try {
      await api(`/api/patients/${encodeURIComponent($("#mem-patient").value)}/memory`, { method: "PUT", body: JSON.stringify({ text: $("#mem-text").value }) });
      $("#mem-status").textContent = "saved";
    } catch (e) { $("#mem-status").textContent = e.message; }
  });
  async function refreshSessions() {
    const sessions = await api("/api/sessions");
    $("#sessions tbody").replaceChildren(...sessions.map(s => el("tr", { "data-session-id": s.id },
      el("td", {}, s.id), el("td", {}, s.patientId), el("td", {}, s.mode), el("td", {}, s.state),
      el("td", {}, s.state === "Running" ? el("a", { href: `#/live/${s.id}`, class: "watch" }, "Watch") : "",
        " ", s.state !== "Created" ? el("a", { href: `#/report/${s.id}`, class: "report" }, "Report") : ""))));
  }
  let defaultRules = "";
  $("#new-patient").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#np-error").textContent = "";
    let hierarchy;
    try { hierarchy = JSON.parse($("#np-hierarchy").value); } catch (e) { $("#np-error").textContent = `hierarchy: not valid JSON (${e.message})`; return; }
    try {
      await api("/api/patients", { method: "POST", body: JSON.stringify({ id: $("#np-id").value || null, site: $("#np-site").value, notes: $("#np-notes").value, hierarchy }) });
      $("#np-id").value = ""; $("#np-notes").value = "";
      await home();
    } catch (e) { $("#np-error").textContent = e.message; }
  });
  $("#ns-rules-check").addEventListener("click", async () => {
    const r = await api("/api/rules/validate", { method: "POST", body: JSON.stringify({ text: $("#ns-rules").value }) });
    $("#ns-rules-result").replaceChildren(r.valid
      ? el("div", { class: "ok" }, `Valid: ${r.rules.length} rules.`, el("ul", {}, ...r.rules.map(x => el("li", {}, x))))
      : el("div", { class: "error" }, `Not valid${r.line ? ` (line ${r.line})` : ""}: ${r.error}`));
  });
  $("#new-session").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#ns-error").textContent = "";
    try {
      const r = await api("/api/sessions", { method: "POST", body: JSON.stringify({ patientId: $("#ns-patient").value, scheduler: $("#ns-scheduler").value, mode: $("#ns-mode").value, baselineSeconds: Number($("#ns-baseline").value),
        rules: $("#ns-rules").value && $("#ns-rules").value !== defaultRules ? $("#ns-rules").value : null }) });
      createdSession = r.session.id;
      $("#pairing").hidden = false;
      $("#pairing-code").textContent = r.pairing.code;
      $("#pairing-expiry").textContent = `(valid until ${new Date(r.pairing.expiresAt).toLocaleTimeString()})`;
      $("#pairing-qr").src = `/api/pairing-qr?code=${encodeURIComponent(r.pairing.code)}`;
    } catch (e) { $("#ns-error").textContent = e.message; }
  });
  // A pairing code pairs one device; the therapist asks for another one for each further device.
  async function newPairingCode(session, codeEl, expiryEl, qrEl) {
    try {
      const p = await api(`/api/sessions/${session}/pairing-code`, { method: "POST" });
      codeEl.textContent = p.code;
      expiryEl.textContent = `(one device, valid until ${new Date(p.expiresAt).toLocaleTimeString()})`;
      if (qrEl) qrEl.src = `/api/pairing-qr?code=${encodeURIComponent(p.code)}`;
    } catch (e) { expiryEl.textContent = e.message; }
  }
  $("#new-pairing-code").addEventListener("click", () => newPairingCode(createdSession, $("#pairing-code"), $("#pairing-expiry"), $("#pairing-qr")));
  $("#live-new-code").addEventListener("click", () => newPairingCode(sessionId, $("#live-code"), $("#live-code-expiry"), null));
  $("#start-session").addEventListener("click", async () => {
    try { await api(`/api/sessions/${createdSession}/start`, { method: "POST" }); location.hash = `#/live/${createdSession}`; }
    catch (e) { $("#ns-error").textContent = e.message; }
  });

  // ------------------------------------------------------------------------------------------ live
  let hub = null, sessionId = null, chart = null, series = [[], [], [], [], [], []], lastT = -1, patient = null, scenarios = [], lastView = null;
  const alerts = new Map();

  function stopLive() { const h = hub; hub = null; if (h) h.stop(); stopRun++; }

  // ------------------------------------------------------------------------------------------ connection
  // The console never gives up on the server: SignalR's automatic reconnect with a capped exponential backoff that
  // never returns null, and a fresh start whenever the connection closes anyway (e.g. the server refused it while it
  // restarted). While it is down the live view is marked stale (banner, greyed values, age of the last update); on
  // return the console watches the session again and takes its state (view, open alerts, events, conversation).
  const conn = { state: "connected", attempts: 0, lastUpdate: 0, resyncs: 0, stop: null };
  window.openvretConsole = conn;   // for tests and accessibility tools
  const RETRY_BASE_MS = 250, RETRY_CAP_MS = 5000;
  const backoff = (n) => Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(n, 10)) * (0.8 + 0.4 * Math.random());
  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let onlineWaiters = [];
  // Resolves when the console is connected and resynchronised again, or after at most ms.
  const untilOnline = (ms) => new Promise((resolve) => { onlineWaiters.push(resolve); setTimeout(resolve, ms); });

  function markStale() {
    conn.state = "disconnected";
    $("#view-live").classList.add("stale");
    $("#conn-banner").hidden = false;
    showAge();
  }
  function markFresh() {
    conn.state = "connected";
    conn.attempts = 0;
    $("#view-live").classList.remove("stale");
    $("#conn-banner").hidden = true;
    $("#conn-error").textContent = "";
    const waiters = onlineWaiters; onlineWaiters = [];
    for (const w of waiters) w();
  }
  function showAge() {
    $("#conn-age").textContent = conn.lastUpdate ? String(Math.round((Date.now() - conn.lastUpdate) / 1000)) : "–";
    $("#conn-attempt").textContent = String(conn.attempts);
  }
  setInterval(() => { if (conn.state !== "connected") showAge(); }, 1000);

  function connectHub(id) {
    const h = new signalR.HubConnectionBuilder().withUrl("/hubs/console")
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => { conn.attempts = ctx.previousRetryCount + 1; showAge(); return backoff(ctx.previousRetryCount); } })
      .build();
    h.on("Live", render);
    h.on("EngineEvent", addEvent);
    h.on("Alert", addAlert);
    h.on("Transcript", addLine);
    h.onreconnecting(() => { if (hub === h) markStale(); });
    h.onreconnected(() => { if (hub === h) resync(h, id).catch(resyncFailed); });
    h.onclose(() => { if (hub === h) { markStale(); restart(h, id, conn.attempts); } });
    return h;
  }
  async function restart(h, id, n) {
    await delay(backoff(n));
    if (hub !== h) return;
    conn.attempts = n + 1;
    showAge();
    try { await h.start(); }
    catch (e) { $("#conn-error").textContent = e.message; if (hub === h) restart(h, id, n + 1); return; }
    try { await resync(h, id); } catch (e) { resyncFailed(e); }
  }
  function resyncFailed(e) { $("#conn-error").textContent = `Connected, but the session could not be watched: ${e.message.replace(/^.*HubException: /, "")}`; }

  /** Watches the session (again) and replaces what the console shows with the server's state. */
  async function resync(h, id) {
    const w = await h.invoke("Watch", id);
    if (hub !== h) return;
    alerts.clear(); $("#alerts").replaceChildren();
    for (const a of w.openAlerts) addAlert(a);
    $("#events").replaceChildren();
    for (const e of w.recentEvents) addEvent(e);
    $("#transcript").replaceChildren();
    for (const t of w.transcript) addLine(t);
    render(w.view);
    renderAgent(w.agent);
    conn.resyncs++;
    markFresh();
  }

  // The emergency stop: "delivered" only on the server's confirmation; otherwise a loud, persistent NOT DELIVERED,
  // and it is sent again until the server confirms it.
  let stopRun = 0;
  function showStop(kind, text) {
    conn.stop = kind;
    const box = $("#estop-status");
    box.hidden = false;
    box.className = `estop-status ${kind}`;
    box.textContent = text;
  }
  async function emergencyStop() {
    const run = ++stopRun, id = sessionId;
    let failures = 0, lastError = "";
    showStop("sending", "Emergency stop: sending…");
    for (;;) {
      if (run !== stopRun) return;
      const h = hub;
      if (h && h.state === signalR.HubConnectionState.Connected) {
        // A connection that died without closing yet answers nothing: say so after 3 s, while still waiting for the answer.
        const silent = setTimeout(() => {
          if (run === stopRun && conn.stop === "sending")
            showStop("failed", "EMERGENCY STOP NOT DELIVERED (yet) - no confirmation from the server. Still trying. Stop the exposure in the room now: take the headset off the patient.");
        }, 3000);
        try {
          const ack = await h.invoke("EmergencyStop", id, "emergency stop pressed in the console").finally(() => clearTimeout(silent));
          if (run !== stopRun) return;
          showStop("delivered", `Emergency stop DELIVERED: confirmed by the server at ${new Date().toLocaleTimeString()} (session ${ack.phase === "Paused" ? "paused" : ack.phase}` +
            `${failures > 0 ? `; after ${failures} failed attempt${failures > 1 ? "s" : ""}` : ""}).`);
          return;
        } catch (e) { lastError = e.message.replace(/^.*HubException: /, ""); }
      } else lastError = "";
      failures++;
      if (run !== stopRun) return;
      const connected = hub && hub.state === signalR.HubConnectionState.Connected;
      showStop("failed", `EMERGENCY STOP NOT DELIVERED - ${connected ? `the server refused it: ${lastError}` : "connection lost"}. ` +
        `Retrying until it is delivered (attempt ${failures}). Stop the exposure in the room now: take the headset off the patient.`);
      await untilOnline(connected ? 2000 : 1000);
    }
  }

  async function live(id) {
    show("live");
    stopLive();
    sessionId = id;
    $("#live-id").textContent = id;
    series = [[], [], [], [], [], []]; lastT = -1; alerts.clear(); $("#alerts").replaceChildren(); $("#events").replaceChildren();
    const s = await api(`/api/sessions/${id}`);
    patient = await api(`/api/patients/${encodeURIComponent(s.patientId)}`);
    scenarios = await api("/api/scenarios");
    fillOverride();
    makeChart();
    $("#estop-status").hidden = true;
    conn.stop = null;
    const personas = await api("/api/personas");
    $("#ag-persona").replaceChildren(...personas.personas.map(p => el("option", { value: p.id }, `${p.name} — ${p.role}`)));
    $("#ag-llm-label").hidden = !personas.llm;
    const h = hub = connectHub(id);
    markFresh();
    try { await h.start(); }
    catch (e) { markStale(); $("#conn-error").textContent = e.message; restart(h, id, 0); return; }
    await resync(h, id);
  }

  // ------------------------------------------------------------------------------------------ virtual human
  function addLine(t) {
    const flagged = t.screenCategory && t.screenCategory !== "none";
    const who = t.speaker === "agent" ? (t.persona || "agent") : t.speaker;
    const li = el("li", { class: `t-${t.speaker}`, title: t.reason || "" },
      el("span", { class: "hint" }, `${fmt(t.at)} s `), el("span", { class: "who" }, `${who}:`), t.text,
      t.source && t.speaker === "agent" ? el("span", { class: "hint" }, ` (${t.source})`) : "",
      flagged ? el("span", { class: "flag" }, `${t.screenCategory.replace(/_/g, " ")} → ${t.screenAction.replace(/_/g, " ")}`) : "",
      t.speakingSeconds != null ? el("span", { class: "hint" }, ` · ${fmt(t.speakingSeconds, 1)} s, latency ${fmt(t.latencySeconds, 1)} s`) : "");
    $("#transcript").append(li);
    while ($("#transcript").children.length > 300) $("#transcript").firstChild.remove();
    $("#transcript").scrollTop = $("#transcript").scrollHeight;
    if (t.speaker !== "patient" && hub) hub.invoke("AgentStatus", sessionId).then(renderAgent).catch(() => {});
  }
  function renderAgent(a) {
    $("#agent-off").hidden = !!a; $("#agent-on").hidden = !a;
    if (!a) return;
    $("#ag-name").textContent = a.name; $("#ag-engine").textContent = `${a.engine}, ${a.mode}`; $("#ag-state").textContent = a.state;
    $("#ag-intensity").textContent = fmt(a.intensity, 2); $("#ag-follow").textContent = a.intensityFollowsEngine ? "follows the exposure" : "fixed";
    $("#ag-speaking").textContent = fmt(a.speakingSeconds); $("#ag-turns").textContent = a.patientTurns; $("#ag-latency").textContent = fmt(a.meanLatencySeconds, 1);
    $("#ag-resume").hidden = a.state !== "SafetyHold";
    $("#ag-candidates").replaceChildren(...(a.candidates || []).map(c => el("button", { type: "button", class: "candidate", onclick: () => agent("AgentSelect", c.nodeId) },
      `${c.text} `, el("span", { class: "hint" }, `(${c.why})`))));
  }
  async function agent(method, ...args) {
    $("#ag-error").textContent = "";
    try { renderAgent(await hub.invoke(method, sessionId, ...args)); }
    catch (e) { $("#ag-error").textContent = e.message.replace(/^.*HubException: /, ""); }
  }
  $("#ag-start").addEventListener("click", () => agent("StartAgent", $("#ag-persona").value, $("#ag-mode").value, $("#ag-llm").checked, null));
  $("#ag-say-send").addEventListener("click", async () => { await agent("AgentSay", $("#ag-say").value); if (!$("#ag-error").textContent) $("#ag-say").value = ""; });
  $("#ag-resume").addEventListener("click", () => agent("AgentResume", "the therapist checked in with the patient"));
  $("#ag-dial-set").addEventListener("click", () => agent("AgentIntensity", Number($("#ag-dial").value)));
  $("#ag-dial-follow").addEventListener("click", () => agent("AgentIntensity", null));
  $("#ag-stop").addEventListener("click", async () => { $("#ag-error").textContent = ""; try { await hub.invoke("StopAgent", sessionId); renderAgent(null); } catch (e) { $("#ag-error").textContent = e.message; } });

  function makeChart() {
    const width = Math.max(320, $("#chart").clientWidth || 600);
    const opts = {
      width, height: 260, title: "", cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, hr: { auto: true }, scl: { auto: true }, p: { range: [0, 1] } },
      axes: [{ label: "session time (min)" }, { scale: "hr", label: "bpm" }, { scale: "scl", side: 1, label: "µS" }, { scale: "p", side: 1, show: false }],
      series: [{}, { label: "heart rate (bpm)", scale: "hr", stroke: "#c0392b", width: 2 },
        { label: "skin conductance (µS)", scale: "scl", stroke: "#0b5cad", width: 2 },
        { label: "arousal (p)", scale: "p", stroke: "#7d3c98", width: 2 },
        { label: "SUDS / 100", scale: "p", stroke: "#d35400", width: 2, dash: [6, 4] },
        { label: "predicted expectancy / 100", scale: "p", stroke: "#16a085", width: 1, dash: [2, 3] }],
    };
    $("#chart").replaceChildren();
    chart = new uPlot(opts, series, $("#chart"));
  }

  function render(v) {
    if (!v || v.sessionId !== sessionId) return;
    lastView = v;
    conn.lastUpdate = Date.now();
    $("#live-phase").textContent = v.phase;
    $("#live-elapsed").textContent = `t = ${Math.floor(v.elapsed / 60)} min ${fmt(v.elapsed % 60)} s`;
    $("#live-baseline").hidden = v.phase !== "Baseline";
    $("#live-baseline").textContent = `baseline: ${fmt(v.baselineRemainingSeconds)} s left`;
    $("#live-hold").hidden = !v.holdActive;
    $("#live-hr").textContent = fmt(v.heartRateBpm);
    $("#live-scl").textContent = fmt(v.skinConductance, 2);
    $("#live-arousal").textContent = fmt(v.arousalProbability, 2);
    $("#live-level").textContent = v.arousalLevel === null || v.arousalLevel === undefined ? "" : `level ${v.arousalLevel} of 3`;
    $("#live-band").textContent = v.arousalProbability == null ? (v.phase === "Baseline" ? "calibrating on the resting baseline" : "not enough signal") :
      `calibrated; uncertainty ${fmt(v.arousalUncertainty, 2)} (band ${fmt(Math.max(0, v.arousalProbability - v.arousalUncertainty / 2), 2)}–${fmt(Math.min(1, v.arousalProbability + v.arousalUncertainty / 2), 2)})`;
    $("#live-why").textContent = (v.topContributions || []).map(c => c.text).join("; ") || "–";
    // A device whose sensors are lost can be taken out of the session (e.g. a replaced wearable): its lost sensors then stop holding the exposure.
    const lostDevices = [...new Set(Object.entries(v.sensors || {}).filter(([, s]) => s === "Lost").map(([k]) => k.slice(0, k.lastIndexOf(":"))))];
    $("#sensors").replaceChildren(...Object.entries(v.sensors || {}).map(([k, s]) => el("span", { class: `badge sensor-${s}`, title: k }, `${k.split(":").pop()}: ${s}`)),
      ...lostDevices.map(d => el("button", { class: "remove-device", title: `take device ${d} out of the session`, onclick: async () => {
        if (!confirm(`Remove device ${d} from this session? Its stored data stays; it cannot send again (pair a new device).`)) return;
        await hub.invoke("RemoveDevice", sessionId, d, "removed in the console: its sensors were lost");
      } }, `Remove ${d}`)));
    $("#scene-item").textContent = v.currentItemId || "–";
    $("#scene-intensity").textContent = fmt(v.currentIntensity, 2);
    $("#scene-params").textContent = v.phase === "Baseline" ? "calm neutral scene (baseline)"
      : v.scenePaused ? `the headset shows the calm scene until you ${v.stopped ? "resume" : "release the hold"}; step: ${params(v.parameters)}` : params(v.parameters);
    $("#scene-context").textContent = v.context ? `${v.context.room}, ${v.context.lighting}, ${v.context.timeOfDay}, ${v.context.sound}` : "–";
    $("#live-suds").textContent = fmt(v.suds);
    $("#live-expectancy").textContent = fmt(v.predictedExpectancy);
    $("#live-violation").textContent = fmt(v.lastViolation);
    $("#resume").disabled = !v.stopped;
    $("#release-hold").disabled = !v.holdActive;
    $("#estop").disabled = v.stopped && conn.stop !== "failed";
    renderProposals(v.pending || []);
    if (v.elapsed > lastT + 0.9 && (v.heartRateBpm != null || v.skinConductance != null || v.arousalProbability != null)) {
      lastT = v.elapsed;
      series[0].push(v.elapsed / 60); series[1].push(v.heartRateBpm); series[2].push(v.skinConductance); series[3].push(v.arousalProbability);
      series[4].push(v.suds == null ? null : v.suds / 100); series[5].push(v.predictedExpectancy == null ? null : v.predictedExpectancy / 100);
      if (series[0].length > 3600) for (const s of series) s.shift();
      chart.setData(series);
    }
  }

  let shownProposals = "";
  function renderProposals(pending) {
    const key = pending.map(p => p.proposal.id + p.status).join("|");
    if (key === shownProposals) {   // only the countdowns change
      for (const p of pending) { const c = document.querySelector(`[data-proposal="${p.proposal.id}"] .countdown`); if (c && p.appliesInSeconds != null) c.textContent = `applies in ${fmt(p.appliesInSeconds)} s unless vetoed`; }
      return;
    }
    shownProposals = key;
    if (pending.length === 0) { $("#proposals").replaceChildren(el("p", { class: "hint" }, "No proposal waiting.")); return; }
    $("#proposals").replaceChildren(...pending.map(({ proposal: p, status, appliesInSeconds }) => {
      const edit = el("div", { class: "edit", hidden: "" }, ...Object.entries(p.parameters || {}).map(([k, v]) =>
        el("label", {}, k, el("input", { type: "number", step: "any", value: v, "data-param": k }))));
      const card = el("div", { class: "proposal-card", "data-proposal": p.id, role: "group", "aria-label": `proposal ${p.id}` },
        el("h4", {}, `${p.action}${p.itemId ? " → " + p.itemId : ""}`),
        el("div", {}, `${params(p.parameters)}; intensity ${fmt(p.intensityBefore, 2)} → ${fmt(p.intensityAfter, 2)}; confidence ${fmt(p.confidence, 2)}`),
        el("ul", {}, ...(p.reasons || []).map(r => el("li", {}, `${r.kind}: ${r.text}`))),
        status === "Scheduled" ? el("div", { class: "countdown" }, `applies in ${fmt(appliesInSeconds)} s unless vetoed`) : el("div", { class: "hint" }, "waiting for your decision"),
        edit,
        el("button", { type: "button", class: "primary approve", onclick: () => decide("Approve", p.id, collect(edit)) }, edit.hidden === false ? "Approve edited" : "Approve"),
        el("button", { type: "button", class: "edit-btn", onclick: () => { edit.hidden = !edit.hidden; } }, "Edit"),
        status === "Scheduled" ? el("button", { type: "button", class: "veto", onclick: () => decide("Veto", p.id) }, "Veto")
          : el("button", { type: "button", class: "reject", onclick: () => decide("Reject", p.id, "rejected in the console") }, "Reject"));
      return card;
    }));
  }
  const collect = (edit) => edit.hidden ? null : Object.fromEntries([...edit.querySelectorAll("input")].map(i => [i.dataset.param, Number(i.value)]));

  async function decide(method, proposalId, extra) {
    try {
      if (method === "Veto") await hub.invoke("Veto", sessionId, proposalId);
      else await hub.invoke(method, sessionId, proposalId, extra ?? null);
    } catch (e) { addAlert({ id: "err-" + Date.now(), kind: "error", text: e.message, critical: false }); }
  }

  function addEvent(e) {
    const li = el("li", { class: `ev-${e.kind}` }, `${e.at} ${e.kind}: ${e.text}`);
    $("#events").prepend(li);
    while ($("#events").children.length > 200) $("#events").lastChild.remove();
  }

  function addAlert(a) {
    if (alerts.has(a.id)) return;
    alerts.set(a.id, a);
    const box = el("div", { class: `alert ${a.critical ? "critical" : "info"}`, role: "alert", "data-alert": a.id, "data-kind": a.kind },
      el("span", {}, `${a.critical ? "⚠ " : ""}${a.text}`),
      el("button", { type: "button", class: "ack", onclick: async () => {
        try { if (a.kind !== "error" && !a.id.startsWith("err-")) await hub.invoke("AcknowledgeAlert", sessionId, a.id); box.remove(); alerts.delete(a.id); }
        catch (e) { box.querySelector("span").textContent += ` (${e.message})`; }
      } }, "Acknowledge"));
    $("#alerts").prepend(box);
  }

  function fillOverride() {
    const items = (patient.hierarchy.items || []);
    $("#ov-item").replaceChildren(...items.map(i => el("option", { value: i.id }, `${i.id}: ${i.label || ""}`)));
    const fill = () => {
      const item = items.find(i => i.id === $("#ov-item").value);
      const sc = scenarios.find(s => s.id === item.scenario);
      $("#ov-params").replaceChildren(...(sc ? sc.parameters : []).map(p => el("label", {}, `${p.name} (${p.unit}, ${p.min}–${p.max})`,
        el("input", { type: "number", step: p.isSwitch ? "1" : "any", min: p.min, max: p.max, value: item.parameters[p.name] ?? p.default, "data-param": p.name }))));
    };
    $("#ov-item").onchange = fill;
    fill();
  }
  $("#override").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#ov-error").textContent = "";
    const pars = Object.fromEntries([...$("#ov-params").querySelectorAll("input")].map(i => [i.dataset.param, Number(i.value)]));
    try { await hub.invoke("Override", sessionId, $("#ov-item").value, pars, null, $("#ov-why").value); }
    catch (e) { $("#ov-error").textContent = e.message; }
  });
  const biofeedback = async () => { await hub.invoke("SetBiofeedback", sessionId, $("#bf-breathing").checked, $("#bf-gauge").checked); };
  $("#bf-breathing").addEventListener("change", biofeedback);
  $("#bf-gauge").addEventListener("change", biofeedback);
  $("#estop").addEventListener("click", () => { emergencyStop(); });
  $("#resume").addEventListener("click", async () => { await hub.invoke("Resume", sessionId, "resumed in the console"); });
  $("#release-hold").addEventListener("click", async () => { await hub.invoke("ReleaseHold", sessionId, "released in the console after checking the patient"); });
  $("#end-session").addEventListener("click", async () => {
    if (!confirm("End the session?")) return;
    await api(`/api/sessions/${sessionId}/end`, { method: "POST" });
    stopLive();
    location.hash = `#/report/${sessionId}`;
  });
  window.addEventListener("resize", () => { if (chart) chart.setSize({ width: Math.max(320, $("#chart").clientWidth), height: 260 }); });

  // ------------------------------------------------------------------------------------------ report
  async function report(id) {
    show("report");
    stopLive();
    $("#report-id").textContent = id;
    const r = await api(`/api/sessions/${id}/report`);
    const rows = [["Patient", r.patientId], ["State", r.state], ["Duration", `${fmt(r.durationSeconds / 60, 1)} min`], ["Proposals", r.proposals],
      ["Applied", r.applied], ["Rejected", r.rejected], ["Vetoed", r.vetoed], ["Overrides", r.overrides], ["Safety events", r.safetyEvents],
      ["Alerts", r.alerts], ["Peak SUDS", fmt(r.peakSuds)], ["Mean arousal", fmt(r.meanArousal, 2)], ["Peak heart rate", fmt(r.peakHeartRate)]];
    $("#report-summary").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, String(v)))));
    $("#report-png").src = `/api/sessions/${id}/report.png?t=${Date.now()}`;
    $("#report-download-png").href = `/api/sessions/${id}/report.png`;
    $("#report-download-zip").href = `/api/sessions/${id}/export`;
    $("#report-steps").replaceChildren(...(r.steps || []).map(s => el("li", {}, `${fmt(s.at / 60, 1)} min ${s.kind}${s.itemId ? " " + s.itemId : ""}: ${s.reason}`)));
    if (r.nextSessionPlan) {
      const p = r.nextSessionPlan;
      $("#report-plan").replaceChildren(el("ol", {}, ...(p.trials || []).map(t => el("li", {},
          `${t.itemId} in ${t.context ? [t.context.room, t.context.lighting, t.context.timeOfDay, t.context.sound].join("/") : "the same context"}` +
          `, after a pause of ${t.interTrialInterval}; expected violation ${fmt(t.expectedViolation)}`))),
        el("ul", {}, ...(p.reasons || []).map(x => el("li", {}, x.text))));
    }
  }

  $("#report-print").addEventListener("click", () => window.print());

  // ------------------------------------------------------------------------------------------ routing
  async function route() {
    const h = location.hash || "#/";
    const me = await api("/api/auth/me");
    if (!me.authenticated) { show("login"); return; }
    $("#who").textContent = `${me.userName} (${me.role})`;
    let m;
    if ((m = h.match(/^#\/live\/(.+)$/))) await live(decodeURIComponent(m[1]));
    else if ((m = h.match(/^#\/report\/(.+)$/))) await report(decodeURIComponent(m[1]));
    else await home();
  }
  window.addEventListener("hashchange", route);
  route();
})();
