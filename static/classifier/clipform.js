// Sending a clip: keep the browser's copy for playback, show progress, then submit the form.
import { rememberClip } from "./clipstore.js";

const STORE_TIMEOUT_MS = 1500;

/** Submit form (which holds the clip in its file input) after saving the clip locally. */
export async function sendClip(form) {
  const input = form.querySelector('input[type="file"]');
  const button = form.querySelector('button[type="submit"]');
  if (button) {
    button.disabled = true;
    button.textContent = button.dataset.busyLabel || "Analysing…";
  }
  form.setAttribute("aria-busy", "true");
  if (input && input.files.length && window.indexedDB) {
    const timeout = new Promise((resolve) => setTimeout(resolve, STORE_TIMEOUT_MS));
    await Promise.race([rememberClip(input.files[0]).catch(() => null), timeout]);
  }
  form.submit();
}

/** Send clip forms through sendClip when they are submitted. */
export function enhance(form) {
  form.addEventListener("submit", (event) => {
    if (!form.reportValidity()) return;
    event.preventDefault();
    sendClip(form);
  });
}
