// Upload: a styled file chooser plus drag-and-drop where the device can drop files; the file's
// size and type are checked before sending, with the server's limits (the server checks again).
import { enhance, makePrimary, showFormError } from "./clipform.js";
import { formatSize } from "./status.js";

const form = document.getElementById("upload-form");
const zone = document.getElementById("dropzone");
const input = document.getElementById("file");
const nameOut = document.getElementById("file-name");

/** Why file cannot be sent ("" when it can), by the limits in the form's data attributes. */
function problemWith(file) {
  if (!file) return "Choose an audio file to analyse.";
  const limit = Number(form.dataset.maxBytes);
  if (file.size === 0) return "The file is empty.";
  if (limit && file.size > limit) {
    return `The file is too large (${formatSize(file.size)}); the limit is ${formatSize(limit)}.`;
  }
  const accepted = form.dataset.accept.split(",");
  const extension = `.${file.name.split(".").pop().toLowerCase()}`;
  const isAudio = file.type.startsWith("audio/") || accepted.includes(extension);
  if (!isAudio) {
    return `“${file.name}” is not an audio file. Choose WAV, FLAC, OGG/Opus, MP3, M4A/AAC or WebM/Opus.`;
  }
  return "";
}

function chosen() {
  const file = input.files[0];
  nameOut.textContent = file ? `Selected: ${file.name} (${formatSize(file.size)})` : "";
  const problem = file ? problemWith(file) : "";
  input.setCustomValidity("");
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  showFormError(form, problem);
  if (file) makePrimary(form);
}

if (form) {
  enhance(form, () => problemWith(input.files[0]));
  input.addEventListener("change", chosen);
  // Dropping needs a pointer that can drag files (not a phone's touch screen).
  if (window.matchMedia("(hover: hover) and (pointer: fine)").matches) {
    zone.classList.add("can-drop");
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "dragend"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        chosen();
      }
    });
  }
}
