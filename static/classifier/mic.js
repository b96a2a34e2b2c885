// Server microphone page: start/stop a recording on the server, poll its level and state, then
// open the result page when the analysis is saved.
import { statusLine } from "./status.js";
const section = document.getElementById("mic");
const startButton = document.getElementById("mic-start");
const stopButton = document.getElementById("mic-stop");
const meter = document.getElementById("mic-level");
const timer = document.getElementById("mic-timer");
const status = document.getElementById("mic-status");
const MESSAGES = {
  starting: "Opening the microphone…",
  listening: "Listening… start speaking.",
  recording: "Recording… it stops after about a second of silence.",
  analysing: "Analysing…",
};

let polling = null;

const say = statusLine(status);

async function call(url, method = "GET", body = null) {
  const response = await fetch(url, {
    method, body, credentials: "same-origin",
    headers: { "X-CSRFToken": section.dataset.csrf, Accept: "application/json" },
  });
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = { error: `The server answered ${response.status}.` };
  }
  return { ok: response.ok, data };
}

function showState(data) {
  meter.value = Math.max(0, Math.min(1, (data.level_db + 60) / 60));
  const s = Math.floor(data.elapsed_s || 0);
  timer.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  if (data.state === "done") {
    finish();
    window.location.assign(data.url);
  } else if (data.state === "error") {
    finish();
    say(data.error, true);
  } else if (MESSAGES[data.state]) {
    say(MESSAGES[data.state]);
  }
}

function finish() {
  clearInterval(polling);
  polling = null;
  meter.value = 0;
  startButton.disabled = false;
  stopButton.disabled = true;
}

async function poll() {
  const { ok, data } = await call(section.dataset.statusUrl);
  if (ok) showState(data);
}

async function start() {
  startButton.disabled = true;
  const form = new FormData();
  form.append("device", document.getElementById("mic-device").value);
  const { ok, data } = await call(section.dataset.startUrl, "POST", form);
  if (!ok) {
    startButton.disabled = false;
    say(data.error, true);
    return;
  }
  stopButton.disabled = false;
  stopButton.focus();
  showState(data);
  polling = setInterval(poll, 200);
}

async function stop() {
  stopButton.disabled = true;
  say("Stopping…");
  await call(section.dataset.stopUrl, "POST");
}

if (section) {
  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
}
