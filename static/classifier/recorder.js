// Record in the page: microphone -> AudioWorklet PCM -> 16-bit WAV, with a level meter, a timer,
// stop by button or at the maximum length, playback, then analysis through the record form.
import { micErrorMessage, openMicrophone } from "./microphone.js";
import { statusLine, clock } from "./status.js";
import { enhance, makePrimary } from "./clipform.js";
import { encodeWav } from "./wav.js";
import { announceCapture, waitForOtherCapture } from "./capture.js";

const section = document.getElementById("recorder");
const startButton = document.getElementById("rec-start");
const stopButton = document.getElementById("rec-stop");
const timer = document.getElementById("rec-timer");
const meter = document.getElementById("rec-level");
const status = document.getElementById("rec-status");
const form = document.getElementById("record-form");
const fileInput = document.getElementById("rec-file");
const playback = document.getElementById("rec-playback");

let session = null;
const LIVE_BUSY = "Live mode is using the microphone: stop it to record.";

const say = statusLine(status);

function released(message, isError = true) {
  say(message, isError);
  startButton.disabled = false;
  announceCapture("record", false);
}

async function start() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.AudioWorkletNode) {
    say("This browser cannot record here (recording needs a modern browser and HTTPS). You can upload a file instead.", true);
    return;
  }
  startButton.disabled = true;
  announceCapture("record", true);
  say("Asking for the microphone…");
  let stream;
  try {
    stream = await openMicrophone();
  } catch (error) {
    released(micErrorMessage(error, " to record — or upload a file instead."));
    return;
  }
  try {
    session = await openSession(stream);
  } catch (error) {
    stream.getTracks().forEach((t) => t.stop());
    released(`Recording could not start (${error.message}). You can upload a file instead.`);
    return;
  }
  form.hidden = true;
  stopButton.disabled = false;
  makePrimary(null);
  stopButton.classList.add("primary");   // the one action now
  stopButton.focus();
  say("Recording… speak now.");
  session.ticker = setInterval(tick, 100);
}

async function openSession(stream) {
  const context = new AudioContext();
  await context.audioWorklet.addModule(section.dataset.worklet);
  const source = context.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(context, "pcm-capture", { numberOfOutputs: 0 });
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(capture);
  source.connect(analyser);
  const chunks = [];
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  capture.port.onmessage = (event) => {
    chunks.push(event.data.samples);
    if (event.data.done) finished();
  };
  return { stream, context, capture, analyser, chunks, done, started: performance.now(),
           levels: new Float32Array(analyser.fftSize),
           maxSeconds: Number(section.dataset.maxSeconds) || 30 };
}

function tick() {
  if (!session || session.stopping) return;
  const elapsed = (performance.now() - session.started) / 1000;
  timer.textContent = clock(Math.min(elapsed, session.maxSeconds));
  session.analyser.getFloatTimeDomainData(session.levels);
  let sum = 0;
  for (const v of session.levels) sum += v * v;
  const db = 20 * Math.log10(Math.sqrt(sum / session.levels.length) + 1e-9);
  meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
  if (elapsed >= session.maxSeconds) stop(`Stopped at the ${session.maxSeconds} s maximum.`);
}

async function stop(reason = "") {
  if (!session || session.stopping) return;
  const current = session;
  current.stopping = true;
  clearInterval(current.ticker);
  stopButton.disabled = true;
  stopButton.classList.remove("primary");
  current.capture.port.postMessage("flush");
  await current.done;
  current.stream.getTracks().forEach((t) => t.stop());
  const rate = current.context.sampleRate;
  await current.context.close();
  session = null;
  meter.value = 0;
  const length = current.chunks.reduce((n, c) => n + c.length, 0);
  const samples = new Float32Array(length);
  let offset = 0;
  for (const chunk of current.chunks) {
    samples.set(chunk, offset);
    offset += chunk.length;
  }
  const blob = encodeWav(samples, rate);
  const seconds = length / rate;
  timer.textContent = clock(Math.round(seconds));  // captured length, to the nearest second
  startButton.disabled = false;
  startButton.textContent = "Record again";
  announceCapture("record", false);
  if (seconds < 0.5) {
    say("The recording is too short; record at least a second of speech.", true);
    return;
  }
  try {
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], "recording.wav", { type: "audio/wav" }));
    fileInput.files = transfer.files;
  } catch (error) {
    say("This browser cannot send the recording; please upload a file instead.", true);
    return;
  }
  if (playback.src) URL.revokeObjectURL(playback.src);
  playback.src = URL.createObjectURL(blob);
  form.hidden = false;
  makePrimary(form);
  say(`${reason} Recorded ${seconds.toFixed(1)} s. Listen to it, then analyse it.`.trim());
  document.getElementById("rec-analyse").focus();
}

if (section) {
  enhance(form);
  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", () => stop());
  waitForOtherCapture("record", { button: startButton, status, say, busy: LIVE_BUSY });
}
