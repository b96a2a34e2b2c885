// Shared page helpers: a status line that can show errors, an m:ss clock, file sizes.

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

/** A byte count as "820 kB" below 1 MB, else "3.4 MB" (1 MB = 1024 kB = 1048576 bytes). */
export function formatSize(bytes) {
  if (bytes < 1048576) return `${Math.max(1, Math.round(bytes / 1024))} kB`;
  const mb = bytes / 1048576;
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}
