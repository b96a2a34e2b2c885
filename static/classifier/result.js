// Result page: play the browser's own copy of a clip whose audio the server did not keep.
import { clipFor } from "./clipstore.js";

const player = document.getElementById("local-audio");
const note = document.getElementById("audio-note");

if (player && window.indexedDB) {
  clipFor(player.dataset.analysis, player.dataset.fresh === "1")
    .then((blob) => {
      if (!blob) return;
      player.src = URL.createObjectURL(blob);
      player.hidden = false;
      note.textContent = "Playing your browser's own copy: the server did not keep this audio.";
    })
    .catch(() => null);
}
