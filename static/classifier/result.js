// Result page: play the browser's own copy of a clip whose audio the server did not keep.
import { playLocalCopy } from "./clipstore.js";

const player = document.getElementById("local-audio");

if (player) playLocalCopy(player, player.dataset.analysis, player.dataset.fresh === "1");
