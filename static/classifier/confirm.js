// Delete forms: ask before deleting, and forget the browser's copy of the deleted clip.
import { forgetClip } from "./clipstore.js";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.confirm(form.dataset.confirm)) return;
    const target = form.dataset.forget;
    if (target && window.indexedDB) {
      await forgetClip(target).catch(() => null);
    }
    form.submit();
  });
});
