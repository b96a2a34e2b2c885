// Shared page helpers: a status line that can show errors, and an m:ss clock.

export function statusLine(element) {
  return (message, isError = false) => {
    element.textContent = message;
    element.classList.toggle("error", isError);
  };
}

export function clock(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
