// Record and Live mode both use the microphone: while one runs, the other cannot start.
const EVENT = "ser:capture";

/** Tell the page that owner ("record" or "live") started (active) or stopped capturing. */
export function announceCapture(owner, active) {
  document.dispatchEvent(new CustomEvent(EVENT, { detail: { owner, active } }));
}

/** While a capture other than owner's runs, disable owner's start button and say busy (through
 * say, on the status element status); clear that message when the other capture stops. */
export function waitForOtherCapture(owner, { button, status, say, busy }) {
  document.addEventListener(EVENT, (event) => {
    if (event.detail.owner === owner) return;
    button.disabled = event.detail.active;
    if (event.detail.active) say(busy);
    else if (status.textContent === busy) say("");
  });
}
