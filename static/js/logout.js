// Logging out forgets the photos this browser kept for the upload page.
import { forgetPhotos } from "./photo_store.js";

document.querySelectorAll("form[data-forget-photos]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (form.dataset.forgotten) {
      return;
    }
    event.preventDefault();
    form.dataset.forgotten = "1";
    forgetPhotos().catch(() => {}).finally(() => form.submit());
  });
});
