// Upload: file chooser plus drag-and-drop onto the drop zone.
import { enhance } from "./clipform.js";

const form = document.getElementById("upload-form");
const zone = document.getElementById("dropzone");
const input = document.getElementById("file");
const nameOut = document.getElementById("file-name");

function showName() {
  const file = input.files[0];
  nameOut.textContent = file ? `Selected: ${file.name} (${(file.size / 1048576).toFixed(1)} MB)` : "";
}

if (form) {
  enhance(form);
  input.addEventListener("change", showName);
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
      showName();
    }
  });
}
