// OpenVRET WebXR scenes: driven only by the exposure engine's scenario parameters (heights, spiders, public
// speaking, driving) and the context (room, lighting, time of day, sound). Desktop (drag to look) and
// immersive-vr (VRButton). Pairs with a session by code, receives scene commands over the device hub, sends
// head pose, SUDS ratings and stop requests. A paused or disconnected session shows a calm neutral scene.
import * as THREE from "/lib/three/three.module.js";   // by path: an import map would be inline script, which the CSP refuses
import { VRButton } from "/lib/three/VRButton.js";

const $ = (s) => document.querySelector(s);

// ------------------------------------------------------------------------------------------ state (test hook)
const state = {
  connected: false, paired: false, phase: "Waiting", calm: true, paused: false, scenario: null,
  params: {}, shown: {}, context: { room: "office", lighting: "day", timeOfDay: "afternoon", sound: "quiet" },
  commands: 0, lastCommand: null, prompt: null, eventsSent: 0, lastError: null,
};
window.openvretScene = state;

// ------------------------------------------------------------------------------------------ three.js world
const renderer = new THREE.WebGLRenderer({ antialias: true });
renderer.setPixelRatio(Math.min(2, window.devicePixelRatio));
renderer.setSize(window.innerWidth, window.innerHeight);
renderer.xr.enabled = true;
document.body.appendChild(renderer.domElement);
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(70, window.innerWidth / window.innerHeight, 0.05, 2000);
const rig = new THREE.Group();          // the patient: standing height 1.6 m
rig.add(camera);
camera.position.set(0, 1.6, 0);
scene.add(rig);
const hemi = new THREE.HemisphereLight(0xffffff, 0x445566, 1.0);
const sun = new THREE.DirectionalLight(0xffffff, 1.2);
sun.position.set(5, 10, 4);
scene.add(hemi, sun);

const mat = (color, extra = {}) => new THREE.MeshStandardMaterial({ color, roughness: 0.85, ...extra });

// The room the patient stands in (context): floor, three walls, an open side towards the stimulus.
const room = new THREE.Group();
const roomFloor = new THREE.Mesh(new THREE.BoxGeometry(6, 0.1, 6), mat(0x9c8f80));
roomFloor.position.y = -0.05;
const wallMat = mat(0xd9d4c7);
const backWall = new THREE.Mesh(new THREE.BoxGeometry(6, 3, 0.1), wallMat); backWall.position.set(0, 1.5, 3);
const leftWall = new THREE.Mesh(new THREE.BoxGeometry(0.1, 3, 6), wallMat); leftWall.position.set(-3, 1.5, 0);
const rightWall = new THREE.Mesh(new THREE.BoxGeometry(0.1, 3, 6), wallMat); rightWall.position.set(3, 1.5, 0);
room.add(roomFloor, backWall, leftWall, rightWall);
scene.add(room);

// Heights: the patient's floor is a ledge; the ground is floor_height_m below; a railing; a prompt to look down.
const heights = new THREE.Group();
const ground = new THREE.Mesh(new THREE.PlaneGeometry(400, 400), mat(0x4f7a3a));
ground.rotation.x = -Math.PI / 2;
const facade = new THREE.Mesh(new THREE.BoxGeometry(6, 1, 0.5), mat(0x8d99a6));
const railing = new THREE.Group();
for (let i = -3; i <= 3; i += 0.5) { const post = new THREE.Mesh(new THREE.CylinderGeometry(0.02, 0.02, 1.05), mat(0x333333, { metalness: 0.6 })); post.position.set(i, 0.52, -3); railing.add(post); }
const bar = new THREE.Mesh(new THREE.CylinderGeometry(0.03, 0.03, 6), mat(0x333333, { metalness: 0.6 })); bar.rotation.z = Math.PI / 2; bar.position.set(0, 1.05, -3); railing.add(bar);
const otherBuildings = new THREE.Group();
for (let i = 0; i < 14; i++) {
  const h = 10 + ((i * 37) % 60);
  const b = new THREE.Mesh(new THREE.BoxGeometry(8, h, 8), mat(0x7d8794));
  b.position.set(-60 + i * 9, h / 2, -40 - (i % 3) * 15);
  otherBuildings.add(b);
}
heights.add(ground, facade, railing, otherBuildings);
scene.add(heights);

// Spiders: bodies and legs; distance, size, count, movement, approaching.
const spiders = new THREE.Group();
function makeSpider() {
  const s = new THREE.Group();
  const body = new THREE.Mesh(new THREE.SphereGeometry(0.5, 16, 12), mat(0x1b1410));
  body.scale.set(1, 0.6, 1.3);
  const head = new THREE.Mesh(new THREE.SphereGeometry(0.3, 12, 10), mat(0x1b1410));
  head.position.set(0, 0, -0.7);
  s.add(body, head);
  for (let side of [-1, 1]) for (let k = 0; k < 4; k++) {
    const leg = new THREE.Mesh(new THREE.CylinderGeometry(0.04, 0.03, 1.6), mat(0x1b1410));
    leg.position.set(side * 0.75, -0.1, -0.4 + k * 0.3);
    leg.rotation.z = side * 1.1;
    s.add(leg);
  }
  return s;
}
const spiderTable = new THREE.Mesh(new THREE.BoxGeometry(1.6, 0.05, 3), mat(0x6b4a2f));
spiderTable.position.set(0, 0.75, -1.8);
spiders.add(spiderTable);
const spiderPool = Array.from({ length: 10 }, () => { const s = makeSpider(); spiders.add(s); return s; });
scene.add(spiders);

// Public speaking: rows of listeners facing the patient; attentiveness turns heads up, boredom shows phones.
const audience = new THREE.Group();
const listeners = [];
for (let i = 0; i < 100; i++) {
  const p = new THREE.Group();
  const torso = new THREE.Mesh(new THREE.CylinderGeometry(0.22, 0.28, 0.8), mat([0x3a5a8c, 0x8c3a3a, 0x3a8c5a, 0x6d6d6d][i % 4]));
  torso.position.y = 0.9;
  const head = new THREE.Mesh(new THREE.SphereGeometry(0.15, 12, 10), mat(0xe0b08a));
  head.position.y = 1.45;
  const phone = new THREE.Mesh(new THREE.BoxGeometry(0.08, 0.14, 0.01), mat(0x111111, { emissive: 0x2244aa, emissiveIntensity: 0.8 }));
  phone.position.set(0, 1.15, 0.22);
  p.add(torso, head, phone);
  const row = Math.floor(i / 10), col = i % 10;
  p.position.set(-4.5 + col + (row % 2) * 0.5, row * 0.25, -3 - row * 1.2);
  p.userData = { head, phone, seed: (i * 97) % 13 };
  audience.add(p);
  listeners.push(p);
}
scene.add(audience);

// Driving: a road with traffic at a density and speed.
const driving = new THREE.Group();
const road = new THREE.Mesh(new THREE.PlaneGeometry(12, 600), mat(0x2b2b2b));
road.rotation.x = -Math.PI / 2;
road.position.set(0, 0.01, -250);
driving.add(road);
const cars = Array.from({ length: 60 }, (_, i) => {
  const c = new THREE.Mesh(new THREE.BoxGeometry(1.8, 1.4, 4.2), mat([0xaa2222, 0x2255aa, 0xdddddd, 0x222222][i % 4]));
  c.position.set(i % 2 ? 2 : -2, 0.7, -10 - i * 10);
  driving.add(c);
  return c;
});
scene.add(driving);

const stimulusCentre = new THREE.Vector3();
const INTERRUPTIONS = ["Sorry, can I stop you there?", "Excuse me, could you speak up?", "Wait, go back a slide.", "Sorry, my phone..."];
const QUESTIONS = ["What evidence do you have for that?", "I don't see how that follows.", "Isn't that just your opinion?", "Why should we believe you?"];

// ------------------------------------------------------------------------------------------ in-VR controls
// The SUDS panel: eleven buttons (0-100) usable with a controller ray or the mouse, so a rating needs no keyboard.
function labelTexture(text, bg) {
  const c = document.createElement("canvas"); c.width = 128; c.height = 64;
  const g = c.getContext("2d"); g.fillStyle = bg; g.fillRect(0, 0, 128, 64);
  g.fillStyle = "#fff"; g.font = "bold 34px sans-serif"; g.textAlign = "center"; g.textBaseline = "middle"; g.fillText(text, 64, 34);
  return new THREE.CanvasTexture(c);
}
const sudsPanel = new THREE.Group();
const sudsButtons = [];
for (let i = 0; i <= 10; i++) {
  const b = new THREE.Mesh(new THREE.PlaneGeometry(0.09, 0.05), new THREE.MeshBasicMaterial({ map: labelTexture(String(i * 10), `hsl(${120 - i * 12}, 55%, 38%)`) }));
  b.position.set(-0.5 + i * 0.1, 0, 0);
  b.userData.suds = i * 10;
  sudsPanel.add(b);
  sudsButtons.push(b);
}
// The panel rates SUDS or, after its mode button is pressed, the expectancy of the feared outcome (0-100 %).
const sudsTitle = new THREE.Mesh(new THREE.PlaneGeometry(0.3, 0.05), new THREE.MeshBasicMaterial({ map: labelTexture("SUDS", "#334") }));
sudsTitle.position.set(-0.2, 0.07, 0);
sudsTitle.userData.toggle = true;
sudsPanel.add(sudsTitle);
sudsButtons.push(sudsTitle);
state.ratingMode = "Suds";
function setRatingMode(mode) {
  state.ratingMode = mode;
  sudsTitle.material.map = labelTexture(mode === "Suds" ? "SUDS" : "EXPECT %", "#334");
  sudsTitle.material.needsUpdate = true;
}
sudsPanel.position.set(0, 0.95, -0.7);
sudsPanel.rotation.x = -0.5;
rig.add(sudsPanel);

// Biofeedback overlay (turned on by the therapist): a breathing guide (6 breaths/min) and an arousal gauge.
const breathing = new THREE.Mesh(new THREE.TorusGeometry(0.05, 0.006, 8, 48), new THREE.MeshBasicMaterial({ color: 0x7fd3ff }));
breathing.position.set(0.25, -0.12, -0.6);
camera.add(breathing);
const gauge = new THREE.Group();
const gaugeBack = new THREE.Mesh(new THREE.PlaneGeometry(0.02, 0.16), new THREE.MeshBasicMaterial({ color: 0x222222 }));
const gaugeFill = new THREE.Mesh(new THREE.PlaneGeometry(0.016, 0.156), new THREE.MeshBasicMaterial({ color: 0x44cc66 }));
gaugeFill.position.z = 0.001;
gauge.add(gaugeBack, gaugeFill);
gauge.position.set(-0.28, -0.1, -0.6);
camera.add(gauge);
breathing.visible = false; gauge.visible = false;

// The agent's caption inside the headset (the HTML caption is not shown in immersive mode): wrapped text on a board below the view.
const captionCanvas = document.createElement("canvas"); captionCanvas.width = 1024; captionCanvas.height = 192;
const captionTexture = new THREE.CanvasTexture(captionCanvas);
const captionBoard = new THREE.Mesh(new THREE.PlaneGeometry(0.64, 0.12), new THREE.MeshBasicMaterial({ map: captionTexture, transparent: true }));
captionBoard.position.set(0, -0.2, -0.7);
captionBoard.visible = false;
camera.add(captionBoard);
function drawCaption(name, text) {
  const g = captionCanvas.getContext("2d");
  g.clearRect(0, 0, 1024, 192);
  g.fillStyle = "rgba(20,30,50,0.85)"; g.fillRect(0, 0, 1024, 192);
  g.fillStyle = "#bcd4ff"; g.font = "bold 34px sans-serif"; g.fillText(name + ":", 20, 44);
  g.fillStyle = "#fff"; g.font = "30px sans-serif";
  let line = "", y = 88;
  for (const word of text.split(" ")) {
    if (g.measureText(line + word).width > 980) { g.fillText(line, 20, y); line = ""; y += 38; if (y > 180) break; }
    line += word + " ";
  }
  if (y <= 180) g.fillText(line, 20, y);
  captionTexture.needsUpdate = true;
  captionBoard.visible = true;
}

const raycaster = new THREE.Raycaster();
function pressAt(origin, direction) {
  raycaster.set(origin, direction);
  const hit = raycaster.intersectObjects(sudsButtons, false)[0];
  if (!hit) return false;
  if (hit.object.userData.toggle) { setRatingMode(state.ratingMode === "Suds" ? "ExpectancyBefore" : "Suds"); return true; }
  state.lastRatingPressed = hit.object.userData.suds;
  sendEvent(state.ratingMode, hit.object.userData.suds);
  return true;
}
// Controllers: the trigger ("select") on a button rates.
for (let i = 0; i < 2; i++) {
  const ctrl = renderer.xr.getController(i);
  ctrl.addEventListener("select", () => {
    const o = new THREE.Vector3(), d = new THREE.Vector3(0, 0, -1);
    ctrl.getWorldPosition(o); d.applyQuaternion(ctrl.getWorldQuaternion(new THREE.Quaternion()));
    pressAt(o, d);
  });
  rig.add(ctrl);
}
// Mouse: a click (not a drag) on a button rates.
let downAt = null;
renderer.domElement.addEventListener("pointerdown", (e) => { downAt = [e.clientX, e.clientY]; });
renderer.domElement.addEventListener("pointerup", (e) => {
  if (!downAt || Math.hypot(e.clientX - downAt[0], e.clientY - downAt[1]) > 4) return;
  const ndc = new THREE.Vector2((e.clientX / window.innerWidth) * 2 - 1, -(e.clientY / window.innerHeight) * 2 + 1);
  raycaster.setFromCamera(ndc, camera);
  pressAt(raycaster.ray.origin, raycaster.ray.direction);
});
// For tests and accessibility tools: press the panel's button for a value as a controller would.
window.openvretPressSuds = (value) => {
  const b = value === "mode" ? sudsTitle : sudsButtons.find(x => x.userData.suds === value);
  const target = b.getWorldPosition(new THREE.Vector3()), origin = camera.getWorldPosition(new THREE.Vector3());
  return pressAt(origin, target.sub(origin).normalize());
};

// ------------------------------------------------------------------------------------------ applying parameters
const lerp = (a, b, t) => a + (b - a) * t;
const skyColors = { morning: 0xbcd6ee, afternoon: 0x8fbcea, evening: 0xd9925e };
const roomColors = { office: 0xd9d4c7, living_room: 0xe6d2b5, street: 0x9aa3ab, lecture_hall: 0xc9c2b8 };

function applyContext() {
  const c = state.context;
  const night = c.lighting === "night", dim = c.lighting === "dim";
  scene.background = new THREE.Color(state.calm ? 0xcfd8dc : night ? 0x0b1020 : (skyColors[c.timeOfDay] ?? 0x8fbcea));
  hemi.intensity = state.calm ? 1.0 : night ? 0.25 : dim ? 0.55 : 1.0;
  sun.intensity = state.calm ? 0.8 : night ? 0.1 : dim ? 0.5 : 1.2;
  wallMat.color.set(roomColors[c.room] ?? 0xd9d4c7);
  setSound(state.calm || state.paused ? "quiet" : c.sound);
}

let audioCtx = null, noise = null, noiseGain = null;
function setSound(kind) {
  const level = { quiet: 0, ambient: 0.03, busy: 0.09 }[kind] ?? 0;
  if (level === 0 && !noiseGain) return;
  try {
    if (!audioCtx) {
      audioCtx = new AudioContext();
      const buf = audioCtx.createBuffer(1, audioCtx.sampleRate * 2, audioCtx.sampleRate);
      const d = buf.getChannelData(0);
      for (let i = 0; i < d.length; i++) d[i] = Math.random() * 2 - 1;
      noise = audioCtx.createBufferSource(); noise.buffer = buf; noise.loop = true;
      const filter = audioCtx.createBiquadFilter(); filter.type = "lowpass"; filter.frequency.value = 600;
      noiseGain = audioCtx.createGain(); noiseGain.gain.value = 0;
      noise.connect(filter).connect(noiseGain).connect(audioCtx.destination); noise.start();
    }
    noiseGain.gain.value = level;
  } catch { /* audio is optional (autoplay policies) */ }
}

function visibleStimulus() {
  // Never a stuck stimulus: disconnected, paused or calm all show the neutral room.
  const show = state.connected && !state.calm && !state.paused;
  heights.visible = show && state.scenario === "heights";
  spiders.visible = show && state.scenario === "spiders";
  audience.visible = show && state.scenario === "public_speaking";
  driving.visible = show && state.scenario === "driving";
  state.stimulusVisible = show;
  room.visible = !show || state.scenario !== "heights";
}

// Parameters move smoothly towards their targets (no jump in front of the patient).
function step(dt, t) {
  const shown = state.shown, target = state.params;
  for (const [k, v] of Object.entries(target)) shown[k] = shown[k] === undefined ? v : lerp(shown[k], v, Math.min(1, dt * 1.5));
  if (heights.visible) {
    const h = shown.floor_height_m ?? 3;
    ground.position.y = -h;
    facade.position.set(0, -h / 2, -3.25); facade.scale.y = Math.max(0.1, h);
    otherBuildings.position.y = -h;
    railing.visible = (shown.railing ?? 1) >= 0.5;
    stimulusCentre.set(0, -h, -6);
  }
  if (spiders.visible) {
    const n = Math.round(shown.count ?? 1), size = (shown.size_cm ?? 3) / 100 / 1.6 * 4;
    const speed = shown.movement_speed ?? 0;
    if (target.approaching >= 0.5) state.approach = Math.max(0.15, (state.approach ?? (shown.distance_m ?? 3)) - dt * (0.05 + 0.2 * speed));
    else state.approach = shown.distance_m ?? 3;
    spiderPool.forEach((s, i) => {
      s.visible = i < n;
      s.scale.setScalar(size);
      const wobble = speed * 0.15 * Math.sin(t * (2 + i) + i);
      s.position.set(-0.4 + (i % 4) * 0.27 + wobble, 0.8, -Math.max(0.15, Math.min(3, state.approach)) + 0.1 * Math.floor(i / 4));
    });
    stimulusCentre.set(0, 0.8, -state.approach);
  }
  if (audience.visible) {
    // Interruptions and sceptical questions at their configured rates (per 5 minutes), as Poisson events. The
    // conversational agent (when a session has one) sends its own lines as prompts; these are the scene's own.
    for (const [key, lines] of [["interruptions", INTERRUPTIONS], ["hostile_questions", QUESTIONS]]) {
      const rate = (target[key] ?? 0) / 300;
      if (rate > 0 && Math.random() < rate * dt) {
        const line = lines[Math.floor(Math.random() * lines.length)];
        state.audienceEvents = (state.audienceEvents || 0) + 1;
        apply({ kind: "ShowPrompt", prompt: line, reason: key });
      }
    }
    const n = Math.round(shown.audience_size ?? 5), att = shown.attentiveness ?? 0.8;
    listeners.forEach((p, i) => {
      p.visible = i < n;
      const bored = ((p.userData.seed / 13) > att);
      p.userData.head.rotation.x = bored ? 0.6 : -0.05 + 0.05 * Math.sin(t * 1.3 + i);   // nods when attentive
      p.userData.phone.visible = bored;
    });
    stimulusCentre.set(0, 1.2, -5);
  }
  if (driving.visible) {
    const density = shown.traffic_density ?? 5, v = (shown.vehicle_speed_kmh ?? 50) / 3.6;
    const visibleCars = Math.min(cars.length, Math.round(density));
    cars.forEach((c, i) => {
      c.visible = i < visibleCars;
      c.position.z += v * dt * (i % 2 ? 1 : -1);
      if (c.position.z > 5) c.position.z = -300; if (c.position.z < -300) c.position.z = 5;
    });
    stimulusCentre.set(0, 1, -20);
  }
}

// ------------------------------------------------------------------------------------------ commands
function apply(cmd) {
  state.commands++;
  state.lastCommand = cmd.kind;
  switch (cmd.kind) {
    case "SetScene":
      state.calm = false; state.paused = false; state.scenario = cmd.scenarioId;
      state.params = { ...(cmd.parameters || {}) };
      if (cmd.context) state.context = { ...state.context, ...cmd.context };
      break;
    case "CalmScene": state.calm = true; state.prompt = null; break;
    case "Pause": state.paused = true; break;
    case "Resume": state.paused = false; break;
    case "Biofeedback": {
      const p = cmd.parameters || {};
      state.biofeedback = { breathing: p.breathing >= 0.5, gauge: p.gauge >= 0.5, arousal: p.arousal ?? state.biofeedback?.arousal ?? null };
      break;
    }
    case "AgentSay": {
      // A virtual human speaks: caption and speech synthesis; the answer's latency counts from now.
      const ctx = cmd.context || {};
      state.agent = { name: ctx.name || "Agent", persona: ctx.persona, source: ctx.source, text: cmd.prompt };
      state.agentLines = (state.agentLines || 0) + 1;
      state.lastAgentAt = performance.now();
      state.typingStartedAt = null;
      $("#talk").hidden = false;
      $("#agent .who").textContent = state.agent.name + ":";
      $("#agent .line").textContent = cmd.prompt;
      $("#agent").hidden = false;
      drawCaption(state.agent.name, cmd.prompt);
      try {
        if (window.speechSynthesis && (cmd.parameters?.speak ?? 1) >= 0.5) {
          speechSynthesis.cancel();
          speechSynthesis.speak(new SpeechSynthesisUtterance(cmd.prompt));
        }
      } catch { }
      break;
    }
    case "ShowPrompt":
      state.prompt = cmd.prompt || cmd.reason;
      // Spoken as well (the agents' questions and retrieval cues come this way), where the browser can speak.
      try { if (window.speechSynthesis) speechSynthesis.speak(new SpeechSynthesisUtterance(state.prompt)); } catch { }
      setTimeout(() => { state.prompt = null; renderUi(); }, 8000);
      break;
  }
  renderUi();
}

function renderUi() {
  visibleStimulus();
  applyContext();
  const lookDown = state.scenario === "heights" && !state.calm && !state.paused && (state.params.look_down_prompt ?? 0) >= 0.5;
  const text = state.prompt ?? (lookDown ? "Look down over the edge" : null);
  $("#prompt").hidden = !text;
  $("#prompt").textContent = text ?? "";
  $("#status").textContent = !state.connected ? "Not connected: a calm scene is shown until the connection is back."
    : state.paused ? "Paused by your therapist." : state.calm ? "Relax: calm scene." : `Scene: ${state.scenario}`;
}

// ------------------------------------------------------------------------------------------ connection
let hub = null, eventCounter = 0;
const nextSeq = () => Date.now() * 100 + (eventCounter++ % 100);   // increases across reloads

async function pair(code) {
  const r = await fetch("/api/pair", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, deviceName: "browser scene", role: "VrClient" }) });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.title || `pairing refused (${r.status})`);
  sessionStorage.setItem("openvret.pairing", JSON.stringify(body));
  return body;
}

async function connect(pairing) {
  hub = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/device", { accessTokenFactory: () => pairing.deviceToken })
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (c) => Math.min(5000, 500 * (c.previousRetryCount + 1)) })
    .build();
  hub.on("Command", apply);
  hub.on("Notice", (n) => { if (n.code === "session_ended") { state.phase = "Ended"; apply({ kind: "CalmScene" }); } });
  hub.onreconnecting(() => { state.connected = false; renderUi(); state.sawDisconnectedCalm = !state.stimulusVisible; });   // calm scene until the connection is back
  hub.onclose(() => { state.connected = false; renderUi(); });
  hub.onreconnected(async () => { state.reconnects = (state.reconnects || 0) + 1; await hello(); });
  await hub.start();
  await hello();
}

async function hello() {
  const ack = await hub.invoke("Hello", { version: 1, software: "openvret-webxr", channels: [] });
  state.connected = true; state.paired = true; state.phase = ack.phase;
  if (ack.currentScene) apply(ack.currentScene);
  state.paused = ack.phase === "Paused";
  renderUi();
}

async function sendEvent(kind, value, pose, text, latencySeconds) {
  if (!hub || !state.connected) return;
  try {
    const ack = await hub.invoke("Event", { sequence: nextSeq(), deviceTime: performance.now() / 1000, kind, value: value ?? null, text: text ?? null, pose: pose ?? null, latencySeconds: latencySeconds ?? null });
    if (ack.status === "Rejected") state.lastError = ack.error; else state.eventsSent++;
  } catch (e) { state.lastError = String(e); }
}

$("#pair-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#pair-error").textContent = "";
  try {
    const p = await pair($("#code").value.trim().toUpperCase());
    await connect(p);
    $("#pair-panel").hidden = true; $("#session-panel").hidden = false;
    document.body.append(VRButton.createButton(renderer));   // bottom centre; "enter VR" on a headset browser
  } catch (e) { $("#pair-error").textContent = e.message; }
});
$("#suds").addEventListener("input", () => { $("#suds-value").textContent = $("#suds").value; });
$("#send-suds").addEventListener("click", () => sendEvent("Suds", Number($("#suds").value)));
$("#expectancy").addEventListener("input", () => { $("#expectancy-value").textContent = $("#expectancy").value; });
$("#send-expectancy").addEventListener("click", () => sendEvent("ExpectancyBefore", Number($("#expectancy").value)));
$("#stop").addEventListener("click", () => sendEvent("StopRequest"));

// ------------------------------------------------------------------------------------------ talking to a virtual human
// The patient answers by speech recognition where the browser has it, or by typing. Speaking time and the latency
// from the agent's last line to the start of the answer go with the text (features for the engine).
function latencySince(startMs) {
  return state.lastAgentAt ? Math.max(0, (startMs - state.lastAgentAt) / 1000) : null;
}
async function sendUtterance(text, seconds, latency) {
  text = text.trim();
  if (!text) return;
  state.utterancesSent = (state.utterancesSent || 0) + 1;
  await sendEvent("Utterance", seconds, null, text, latency);
}
$("#say").addEventListener("input", () => { if (state.typingStartedAt == null) state.typingStartedAt = performance.now(); });
$("#send-say").addEventListener("click", async () => {
  const text = $("#say").value;
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  // Typed answers: speaking time estimated at 2.5 words per second; latency to the first keystroke.
  await sendUtterance(text, words / 2.5, latencySince(state.typingStartedAt ?? performance.now()));
  $("#say").value = ""; state.typingStartedAt = null;
});
const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
if (Recognition) {
  $("#mic").hidden = false;
  $("#mic").addEventListener("click", () => {
    const rec = new Recognition();
    rec.lang = navigator.language || "en-US";
    rec.interimResults = false;
    let speechStart = null, speechEnd = null;
    rec.onspeechstart = () => { speechStart = performance.now(); };
    rec.onspeechend = () => { speechEnd = performance.now(); };
    rec.onresult = (ev) => {
      const text = Array.from(ev.results).map((r) => r[0].transcript).join(" ");
      const end = speechEnd ?? performance.now(), start = speechStart ?? end;
      sendUtterance(text, (end - start) / 1000, latencySince(start));
    };
    rec.onerror = (ev) => { state.lastError = "speech recognition: " + ev.error; };
    rec.start();
  });
}

// Resume a pairing after a reload of the page.
const saved = sessionStorage.getItem("openvret.pairing");
if (saved) connect(JSON.parse(saved)).then(() => { $("#pair-panel").hidden = true; $("#session-panel").hidden = false; document.body.append(VRButton.createButton(renderer)); })
  .catch(() => sessionStorage.removeItem("openvret.pairing"));

// ------------------------------------------------------------------------------------------ desktop look + head pose
let yaw = 0, pitch = 0, dragging = false, lx = 0, ly = 0;
renderer.domElement.addEventListener("pointerdown", (e) => { dragging = true; lx = e.clientX; ly = e.clientY; });
window.addEventListener("pointerup", () => { dragging = false; });
window.addEventListener("pointermove", (e) => {
  if (!dragging) return;
  yaw -= (e.clientX - lx) * 0.004; pitch = Math.max(-1.4, Math.min(1.4, pitch - (e.clientY - ly) * 0.004));
  lx = e.clientX; ly = e.clientY;
});
window.addEventListener("keydown", (e) => {
  if (e.key === "ArrowLeft") yaw += 0.1; if (e.key === "ArrowRight") yaw -= 0.1;
  if (e.key === "ArrowUp") pitch = Math.min(1.4, pitch + 0.1); if (e.key === "ArrowDown") pitch = Math.max(-1.4, pitch - 0.1);
});
window.addEventListener("resize", () => { camera.aspect = window.innerWidth / window.innerHeight; camera.updateProjectionMatrix(); renderer.setSize(window.innerWidth, window.innerHeight); });

let lastPose = 0;
const fwd = new THREE.Vector3(), toStim = new THREE.Vector3(), camPos = new THREE.Vector3();
function reportPose(now) {
  if (now - lastPose < 500 || !state.connected) return;
  lastPose = now;
  const xrCam = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
  xrCam.getWorldDirection(fwd); xrCam.getWorldPosition(camPos);
  toStim.copy(stimulusCentre).sub(camPos).normalize();
  const inView = !state.calm && !state.paused && fwd.angleTo(toStim) < THREE.MathUtils.degToRad(35);
  const e = new THREE.Euler().setFromQuaternion(xrCam.getWorldQuaternion(new THREE.Quaternion()), "YXZ");
  state.inView = inView;
  sendEvent("HeadPose", null, { yawDegrees: THREE.MathUtils.radToDeg(e.y), pitchDegrees: THREE.MathUtils.radToDeg(e.x), stimulusInView: inView });
}

const clock = new THREE.Clock();
renderer.setAnimationLoop((time) => {
  const dt = Math.min(0.1, clock.getDelta());
  if (!renderer.xr.isPresenting) { camera.rotation.set(pitch, yaw, 0, "YXZ"); }
  step(dt, time / 1000);
  const bf = state.biofeedback || {};
  breathing.visible = !!bf.breathing;
  if (breathing.visible) breathing.scale.setScalar(1 + 0.8 * (0.5 - 0.5 * Math.cos(2 * Math.PI * (time / 1000) / 10)));   // 10 s per breath
  gauge.visible = !!bf.gauge && bf.arousal != null;
  if (gauge.visible) {
    const a = Math.max(0.02, Math.min(1, bf.arousal));
    gaugeFill.scale.y = a; gaugeFill.position.y = -0.078 * (1 - a);
    gaugeFill.material.color.setHSL((1 - a) * 0.33, 0.7, 0.45);
  }
  reportPose(time);
  renderer.render(scene, camera);
  state.frames = (state.frames || 0) + 1;
});
renderUi();
