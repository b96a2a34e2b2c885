// The browser's own copy of the last clip sent for analysis (IndexedDB), so the result page can
// play it back although the server deleted the audio right after analysing it.
const DB_NAME = "ser-clips";
const STORE = "clips";
const KEY = "last";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Remember blob as the clip being analysed now (not yet tied to an analysis id). */
export function rememberClip(blob) {
  return run("readwrite", (store) => store.put({ blob, id: null }, KEY));
}

/** The stored clip for analysis id: claims an unclaimed clip when the page is fresh. */
export async function clipFor(id, fresh) {
  const record = await run("readonly", (store) => store.get(KEY));
  if (!record) return null;
  if (record.id === id) return record.blob;
  if (fresh && record.id === null) {
    await run("readwrite", (store) => store.put({ blob: record.blob, id }, KEY));
    return record.blob;
  }
  return null;
}

/** Forget the stored clip (of analysis id, or any when id is "all"). */
export async function forgetClip(id) {
  const record = await run("readonly", (store) => store.get(KEY));
  if (record && (id === "all" || record.id === id)) {
    await run("readwrite", (store) => store.delete(KEY));
  }
}

/** Play the browser's copy of analysis id's clip in player (an <audio>), if there is one. */
export async function playLocalCopy(player, id, fresh) {
  if (!window.indexedDB) return;
  const blob = await clipFor(id, fresh).catch(() => null);
  if (!blob) return;
  player.src = URL.createObjectURL(blob);
  player.hidden = false;
  const note = player.parentElement.querySelector("#audio-note");
  if (note) note.textContent = "Playing your browser's own copy: the server did not keep this audio.";
}
