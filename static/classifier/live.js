// Live mode: microphone -> AudioWorklet PCM -> 16-bit chunks POSTed every ~0.5 s; each answer is
// the emotion of the last few seconds, shown as "now" and appended to a rolling timeline.
// Stop, then save the whole session to the history (or discard it).
import { micErrorMessage, openMicrophone } from "./microphone.js";
import { statusLine, clock } from "./status.js";
import { announceCapture, waitForOtherCapture } from "./capture.js";
import { makePrimary } from "./clipform.js";
const section = document.getElementById("live");
const $ = (id) => document.getElementById(id);
const startButton = $("live-start");
const stopButton = $("live-stop");
const meter = $("live-level");
const timer = $("live-timer");
const now = $("live-now");
const confidence = $("live-confidence");
const strip = $("live-timeline");
const status = $("live-status");
const after = $("live-after");
const announcer = $("live-announce");
const RECORD_BUSY = "Recording is using the microphone: stop it to start Live mode.";
const adaptSwitch = $("live-adapt");
const voiceNote = $("live-voice");
const SEND_EVERY_MS = 1000 * Number(section?.dataset.sendEvery || 0.5);
const KEEP_ENTRIES = 12;

let live = null;     // the running capture
let session = null;  // the server session (kept after stop until saved or discarded)

const say = statusLine(status);

async function post(url, body, contentType) {
  const headers = { "X-CSRFToken": section.dataset.csrf, Accept: "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method: "POST", body, headers, credentials: "same-origin" });
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = { error: `The server answered ${response.status}.` };
  }
  return { ok: response.ok, status: response.status, data };
}

function toPcm16(chunks) {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const pcm = new Int16Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const s = Math.max(-1, Math.min(1, chunk[i]));
      pcm[offset++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
  }
  return pcm;
}

function show(entry) {
  if (now.textContent !== entry.emotion) announcer.textContent = `Now ${entry.emotion}`;
  now.textContent = entry.emotion;
  now.className = `emo-${entry.emotion}`;
  confidence.textContent = entry.emotion === "silence" ? "" : `${Math.round(entry.confidence * 100)}%`;
  const item = document.createElement("li");
  item.className = `emo-${entry.emotion}`;
  item.dataset.emotion = entry.emotion;
  const time = document.createElement("span");
  time.className = "t";
  time.textContent = `${entry.start_s.toFixed(1)}–${entry.end_s.toFixed(1)} s`;
  const label = document.createElement("span");
  label.className = "e";
  label.textContent = entry.emotion;
  item.append(time, label);
  strip.append(item);
  while (strip.children.length > KEEP_ENTRIES) strip.firstElementChild.remove();
}

async function send(final = false) {
  if (!live || (live.inflight && !final) || !live.pending.length) return;
  const pcm = toPcm16(live.pending.splice(0));
  const request = post(session.chunk_url, pcm.buffer, "application/octet-stream");
  live.inflight = request;
  const { ok, status: code, data } = await request;
  if (live) live.inflight = null;
  if (ok) {
    show(data.entry);
    showVoice(data.voice, data.entry.adaptation);
  } else if (!final) {
    await stop(code === 413 ? data.error : `Live mode stopped: ${data.error}`, code !== 413);
  }
}

/** Say whether the answers are adapted to the speaker's voice, or how far the session is. */
function showVoice(voice, adaptation) {
  if (!voiceNote || !voice || !voice.adapt) {
    if (voiceNote) voiceNote.textContent = "Generic model (not adapted).";
    return;
  }
  if (adaptation) {
    voiceNote.textContent = adaptation.source === "session"
      ? `Adapted to this speaker (${adaptation.clips} windows, ${Math.round(adaptation.seconds)} s of speech).`
      : `Adapted to your voice profile “${adaptation.profile}” (${adaptation.clips} clips).`;
  } else if (!voice.profile) {
    voiceNote.textContent = `Learning this speaker's voice: ${voice.session_clips} of ${voice.needed} stretches of speech heard.`;
  }
}

async function start() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.AudioWorkletNode) {
    say("This browser cannot capture audio here (Live mode needs a modern browser and HTTPS).", true);
    return;
  }
  if (session && !window.confirm("Start again and discard the session you have not saved?")) return;
  startButton.disabled = true;
  after.hidden = true;
  if (session) await discard(false);
  announceCapture("live", true);
  say("Asking for the microphone…");
  let stream;
  try {
    stream = await openMicrophone();
  } catch (error) {
    say(micErrorMessage(error, " to use Live mode."), true);
    startButton.disabled = false;
    announceCapture("live", false);
    return;
  }
  try {
    live = await capture(stream);
    const adapt = adaptSwitch && adaptSwitch.checked ? "&adapt=1" : "";
    const opened = await post(`${section.dataset.startUrl}?rate=${live.context.sampleRate}${adapt}`);
    if (!opened.ok) throw new Error(opened.data.error);
    session = opened.data;
  } catch (error) {
    await release();
    say(`Live mode could not start (${error.message}).`, true);
    startButton.disabled = false;
    return;
  }
  strip.replaceChildren();
  announcer.textContent = "";
  live.started = performance.now();
  live.ticker = setInterval(tick, 100);
  live.sender = setInterval(send, SEND_EVERY_MS);
  stopButton.disabled = false;
  makePrimary(null);
  stopButton.classList.add("primary");   // the one action now
  stopButton.focus();
  say("Listening… speak now.");
}

async function capture(stream) {
  const context = new AudioContext();
  await context.audioWorklet.addModule(section.dataset.worklet);
  const node = new AudioWorkletNode(context, "pcm-capture", { numberOfOutputs: 0 });
  context.createMediaStreamSource(stream).connect(node);
  const state = { stream, context, node, pending: [], level: 0, inflight: null };
  let finished;
  state.done = new Promise((resolve) => { finished = resolve; });
  node.port.onmessage = (event) => {
    const samples = event.data.samples;
    if (state.started !== undefined) state.pending.push(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    const db = 10 * Math.log10(sum / Math.max(1, samples.length) + 1e-12);
    meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
    if (event.data.done) finished();
  };
  return state;
}

function tick() {
  if (!live) return;
  const elapsed = (performance.now() - live.started) / 1000;
  timer.textContent = clock(elapsed);
  if (session && elapsed >= session.max_s) stop(`Stopped at the ${clock(session.max_s)} maximum.`);
}

async function release() {
  if (!live) return;
  const current = live;
  live = null;
  clearInterval(current.ticker);
  clearInterval(current.sender);
  current.stream.getTracks().forEach((t) => t.stop());
  await current.context.close();
  meter.value = 0;
  announceCapture("live", false);
}

async function stop(reason = "", isError = false) {
  if (!live || live.stopping) return;
  live.stopping = true;
  stopButton.disabled = true;
  stopButton.classList.remove("primary");
  clearInterval(live.sender);
  live.node.port.postMessage("flush");
  await live.done;
  if (live.inflight) await live.inflight;
  await send(true);
  await release();
  startButton.disabled = false;
  startButton.textContent = "Start again";
  after.hidden = false;
  $("live-save").focus();
  say(`${reason} Stopped. Save the session to the history, or discard it.`.trim(), isError);
}

async function save() {
  if (!session) return;
  $("live-save").disabled = true;
  say("Analysing the whole session…");
  const form = new FormData();
  form.append("keep", $("live-keep").checked ? "1" : "0");
  const { ok, data } = await post(session.save_url, form);
  session = null;
  $("live-save").disabled = false;
  after.hidden = true;
  if (ok) {
    window.location.assign(data.url);
  } else {
    say(data.error, true);
  }
}

async function discard(announce = true) {
  if (!session) return;
  const current = session;
  session = null;
  after.hidden = true;
  await post(current.discard_url);
  if (announce) say("The session was discarded.");
}

if (section) {
  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", () => stop());
  $("live-save").addEventListener("click", save);
  $("live-discard").addEventListener("click", () => discard());
  waitForOtherCapture("live", { button: startButton, status, say, busy: RECORD_BUSY });
  // Leaving with a running or unsaved session asks first (the browser shows its own question).
  window.addEventListener("beforeunload", (event) => {
    if (!live && !session) return;
    event.preventDefault();
    event.returnValue = "";
  });
  window.addEventListener("pagehide", () => {
    if (!session) return;
    const form = new FormData();
    form.append("csrfmiddlewaretoken", section.dataset.csrf);
    navigator.sendBeacon(session.discard_url, form);
  });
}
