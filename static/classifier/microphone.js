// Opening the browser's microphone for raw PCM capture, and a readable message when it fails.

export async function openMicrophone() {
  return navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
}

// `alternative` ends each message, e.g. " — or upload a file instead."
export function micErrorMessage(error, alternative = ".") {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `Microphone access was denied. Allow the microphone for this site in the browser's settings${alternative}`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No microphone was found. Connect one${alternative}`;
    case "NotReadableError":
      return `The microphone is busy or unavailable (is another application using it?)${alternative}`;
    default:
      return `The microphone could not be opened (${error && error.message ? error.message : error})${alternative}`;
  }
}
