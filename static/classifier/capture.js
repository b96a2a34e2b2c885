// Record and Live mode both use the microphone: while one runs, the other cannot start.
const EVENT = "ser:capture";

/** Tell the page that owner ("record" or "live") started (active) or stopped capturing. */
export function announceCapture(owner, active) {
  document.dispatchEvent(new CustomEvent(EVENT, { detail: { owner, active } }));
}

/** Call handler(active) whenever a capture other than owner's starts or stops. */
export function onOtherCapture(owner, handler) {
  document.addEventListener(EVENT, (event) => {
    if (event.detail.owner !== owner) handler(event.detail.active);
  });
}
