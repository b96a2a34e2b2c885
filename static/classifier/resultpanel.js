// The result panel of the home page: the stored result page's body, fetched and shown beside
// the input, with a permalink to that page.
import { playLocalCopy } from "./clipstore.js";

const studio = document.getElementById("studio");
const panel = document.getElementById("result-panel");
const body = document.getElementById("panel-body");
const permalink = document.getElementById("permalink");
const title = document.getElementById("panel-title");
let origin = null;

/** Demote the result page's headings by one level (the panel has its own h2). */
function demote(root) {
  root.querySelectorAll("h2, h3").forEach((heading) => {
    const lower = document.createElement(heading.tagName === "H2" ? "h3" : "h4");
    lower.append(...heading.childNodes);
    for (const { name, value } of heading.attributes) lower.setAttribute(name, value);
    heading.replaceWith(lower);
  });
}

/** Show the analysis {id, url} in the panel; clip (a Blob) or example (a URL) plays there. */
export async function showResult({ id, url }, { clip = null, example = null, origin: from = null } = {}) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`result page answered ${response.status}`);
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const content = page.querySelector("[data-result-body]");
  if (!content) throw new Error("no result in the page");
  demote(content);
  content.querySelector("#model-knows")?.remove();   // the home page says it already
  const player = content.querySelector("#local-audio");
  if (player && example) {
    player.src = example;
    player.hidden = false;
    content.querySelector("#audio-note")?.remove();
  }
  body.replaceChildren(document.importNode(content, true));
  const local = body.querySelector("#local-audio");
  if (local && !example && clip) await playLocalCopy(local, id, true);
  permalink.href = url;
  origin = from;
  panel.hidden = false;
  studio.classList.add("has-result");
  title.focus({ preventScroll: true });
  panel.scrollIntoView({ block: "start", behavior: "smooth" });
}

if (panel) {
  document.getElementById("another").addEventListener("click", () => {
    const card = origin?.closest(".card");
    const target = (origin?.matches("[data-example]") ? origin.querySelector("button") : null) ||
      card?.querySelector("input[type=file]:not([tabindex='-1']), .start") ||
      document.getElementById("file");
    target.closest(".card")?.scrollIntoView({ block: "start", behavior: "smooth" });
    target.focus({ preventScroll: true });
  });
}
