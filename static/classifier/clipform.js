// Sending a clip (upload, recording or example): keep the browser's copy for playback, post the
// form with fetch and show the result in place. Without JavaScript the same forms post normally
// (post/redirect/get); if the page cannot show the result itself it submits the form instead.
import { rememberClip } from "./clipstore.js";
import { showResult } from "./resultpanel.js";

const STORE_TIMEOUT_MS = 1500;

function errorLine(form) {
  return form.querySelector("[role=alert]") || document.getElementById(form.dataset.errorTarget);
}

/** Show message under form (or clear it when message is empty). */
export function showFormError(form, message) {
  const line = errorLine(form);
  if (!line) return;
  line.textContent = message;
  line.hidden = !message;
  line.classList.toggle("error", Boolean(message));
}

/** Make form's submit button the page's one primary action (the clip the user prepared last):
 * the other clip forms' submit buttons lose the emphasis until their clip is prepared again.
 * form null: none of them (a capture in progress has the one action, its Stop button). */
export function makePrimary(form) {
  document.querySelectorAll("form[data-clip-form] button[type=submit]").forEach((button) => {
    button.classList.toggle("primary", button.form === form);
  });
}

function busy(form, on) {
  const button = form.querySelector('button[type="submit"]');
  if (button) {
    if (on) {
      button.dataset.label = button.innerHTML;
      button.textContent = button.dataset.busyLabel || "Analysing…";
    } else if (button.dataset.label) {
      button.innerHTML = button.dataset.label;
    }
    button.disabled = on;
  }
  form.toggleAttribute("aria-busy", on);
}

async function post(form) {
  const response = await fetch(form.action, {
    method: "POST", body: new FormData(form), credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  let data;
  try {
    data = await response.json();
  } catch (error) {
    data = { error: `The server answered ${response.status}; please try again.` };
  }
  return { ok: response.ok && Boolean(data.url), data };
}

/** Analyse the clip in form in place (on pages with a result panel; elsewhere, as before, submit
 * the form normally); returns true when the result is shown. */
export async function sendClip(form) {
  const input = form.querySelector('input[type="file"]');
  const clip = input && input.files.length ? input.files[0] : null;
  showFormError(form, "");
  busy(form, true);
  if (clip && window.indexedDB) {
    const timeout = new Promise((resolve) => setTimeout(resolve, STORE_TIMEOUT_MS));
    await Promise.race([rememberClip(clip).catch(() => null), timeout]);
  }
  if (!document.getElementById("result-panel")) {
    form.submit();
    return false;
  }
  try {
    let answer;
    try {
      answer = await post(form);
    } catch (error) {
      showFormError(form, "The server could not be reached. Check the connection and try again.");
      return false;
    }
    if (!answer.ok) {
      showFormError(form, answer.data.error || "The analysis failed; please try again.");
      return false;
    }
    try {
      await showResult(answer.data, { clip, example: form.dataset.example, origin: form });
    } catch (error) {
      window.location.assign(`${answer.data.url}?new=1`);  // the stored result, as a page
    }
    return true;
  } finally {
    busy(form, false);
  }
}

/** Send form through sendClip when it is submitted; check(form) may veto with a message. */
export function enhance(form, check = () => "") {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const problem = check(form);
    if (problem) {
      showFormError(form, problem);
      return;
    }
    sendClip(form);
  });
}
