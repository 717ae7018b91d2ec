// The upload page: drop zones (drag-and-drop, click to pick, paste), previews, checks
// before upload, the face picker, and the chosen photos kept in this browser across a
// server-side error or a "swap again". Without this script the form works as plain HTML.
import { checkPhoto } from "./photo_checks.js";
import { FaceChoice, detectFaces, drawBoxes } from "./face_picker.js";
import { keepPhotos, keptPhotos } from "./photo_store.js";

const PHOTO_NAMES = { source: "source photo", target: "target photo", reference: "reference photo" };
const FIELD_OF = { source: "source_image", target: "target_image", reference: "reference_image" };

class PhotoField {
  constructor(box, page) {
    this.box = box;
    this.page = page;
    this.role = box.dataset.photoField;
    this.photo = PHOTO_NAMES[this.role];
    this.input = box.querySelector("input[type=file]");
    this.message = box.querySelector("[data-photo-message]");
    this.previews = box.querySelector("[data-previews]");
    this.zone = box.querySelector("[data-dropzone]");
    this.files = [];
    this.detections = [];
    this.urls = [];
    this.input.addEventListener("change", () => this.take(Array.from(this.input.files)));
    this.zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      this.zone.classList.add("dropzone-over");
    });
    this.zone.addEventListener("dragleave", () => this.zone.classList.remove("dropzone-over"));
    this.zone.addEventListener("drop", (event) => {
      event.preventDefault();
      this.zone.classList.remove("dropzone-over");
      this.take(Array.from(event.dataTransfer.files));
    });
    this.zone.addEventListener("click", () => page.setActive(this));
    this.input.addEventListener("focus", () => page.setActive(this));
  }

  get multiple() {
    return this.input.multiple;
  }

  say(text, isError = false) {
    this.message.textContent = text;
    this.message.classList.toggle("field-message-error", isError);
  }

  // Check, keep the good ones in the input (so the plain form sends them), preview.
  async take(files, note = "") {
    const wanted = this.multiple ? files.slice(0, 4) : files.slice(0, 1);
    const checked = await Promise.all(
      wanted.map((file) => checkPhoto(file, this.photo, this.page.limits))
    );
    const good = [];
    const bitmaps = [];
    const problems = [];
    checked.forEach((result, i) => {
      if (result.ok) {
        good.push(wanted[i]);
        bitmaps.push(result.bitmap);
      } else {
        problems.push(result.message);
      }
    });
    const transfer = new DataTransfer();
    good.forEach((file) => transfer.items.add(file));
    this.input.files = transfer.files;
    this.files = good;
    this.render(bitmaps);
    if (problems.length) {
      this.say(problems.join(" "), true);
    } else if (files.length > wanted.length) {
      this.say(`Only the first ${wanted.length} photos are used.`, true);
    } else {
      this.say(note);
    }
    await this.findFaces(bitmaps);
  }

  render(bitmaps) {
    this.urls.forEach((url) => URL.revokeObjectURL(url));
    this.urls = this.files.map((file) => URL.createObjectURL(file));
    this.previews.replaceChildren();
    this.detections = this.files.map(() => null);
    this.files.forEach((file, i) => {
      const figure = document.createElement("figure");
      figure.className = "photo-preview";
      const frame = document.createElement("div");
      frame.className = "photo-frame";
      const img = document.createElement("img");
      img.src = this.urls[i];
      img.alt = `Preview of the ${this.photo}${this.files.length > 1 ? ` ${i + 1}` : ""}`;
      img.width = bitmaps[i].width;
      img.height = bitmaps[i].height;
      const layer = document.createElement("div");
      layer.className = "face-layer";
      layer.dataset.faceLayer = this.role;
      frame.append(img, layer);
      const caption = document.createElement("figcaption");
      caption.textContent = file.name;
      figure.append(frame, caption);
      this.previews.append(figure);
    });
  }

  async findFaces(bitmaps) {
    if (!bitmaps.length || this.role === "reference") {
      bitmaps.forEach((bitmap) => bitmap.close());
      this.page.facesChanged();
      return;
    }
    const before = this.message.textContent;
    this.say(`${before} Looking for faces…`.trim());
    const results = await Promise.allSettled(
      bitmaps.map((bitmap) =>
        detectFaces(bitmap, this.role, this.page.detectUrl, this.page.csrfToken)
      )
    );
    bitmaps.forEach((bitmap) => bitmap.close());
    this.detections = results.map((result) => (result.status === "fulfilled" ? result.value : null));
    const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
    const layers = this.previews.querySelectorAll("[data-face-layer]");
    let offset = 0;
    this.detections.forEach((detection, i) => {
      if (detection) {
        drawBoxes(layers[i], detection, offset, `${this.photo}${this.files.length > 1 ? ` ${i + 1}` : ""}`);
        offset += detection.faces.length;
      }
    });
    if (errors.length) {
      this.say(errors.join(" "), true);
    } else if (offset === 0) {
      this.say(
        `We could not find a face in the ${this.photo}: use a photo where the face is ` +
          "clearly visible and facing the camera.",
        true
      );
    } else {
      const faces = offset === 1 ? "1 face found." : `${offset} faces found: click the ones to use.`;
      this.say(`${before} ${faces}`.trim());
    }
    this.page.facesChanged();
  }
}

class UploadPage {
  constructor(form) {
    this.form = form;
    this.limits = {
      maxBytes: Number(form.dataset.maxBytes),
      maxPixels: Number(form.dataset.maxPixels),
    };
    this.detectUrl = form.dataset.detectUrl;
    this.csrfToken = form.querySelector("[name=csrfmiddlewaretoken]").value;
    this.fields = {};
    form.querySelectorAll("[data-photo-field]").forEach((box) => {
      const field = new PhotoField(box, this);
      this.fields[field.role] = field;
    });
    this.active = null;
    this.sources = new FaceChoice(form.querySelector("[name=source_face]"), () =>
      form.querySelectorAll("[data-face-layer=source] .face-box")
    );
    this.targets = new FaceChoice(
      form.querySelector("[name=target_face]"),
      () => form.querySelectorAll("[data-face-layer=target] .face-box"),
      { allowAll: true, allButton: form.querySelector("[data-all-faces]") }
    );
    form.addEventListener("click", (event) => this.clicked(event));
    document.addEventListener("paste", (event) => this.pasted(event));
    form.addEventListener("submit", (event) => this.submitting(event));
    window.addEventListener("pageshow", () => this.ready());
  }

  setActive(field) {
    this.active = field;
  }

  clicked(event) {
    const box = event.target.closest(".face-box");
    if (!box) {
      return;
    }
    const index = Number(box.dataset.faceIndex);
    const layer = box.closest("[data-face-layer]").dataset.faceLayer;
    (layer === "source" ? this.sources : this.targets).toggle(index);
  }

  pasted(event) {
    const files = Array.from(event.clipboardData ? event.clipboardData.files : []);
    if (!files.length) {
      return;
    }
    event.preventDefault();
    const field =
      this.active ||
      [this.fields.source, this.fields.target].find((f) => f && !f.files.length) ||
      this.fields.target;
    field.take(files);
  }

  facesChanged() {
    this.sources.show();
    this.targets.show();
    const reference = this.fields.reference && this.fields.reference.files.length > 0;
    this.form.classList.toggle("has-reference", Boolean(reference));
  }

  submitting(event) {
    if (this.form.dataset.kept) {
      return;
    }
    event.preventDefault();
    const button = this.form.querySelector("[data-submit]");
    button.disabled = true;
    button.textContent = "Uploading…";
    const kept = {};
    for (const [role, field] of Object.entries(this.fields)) {
      kept[FIELD_OF[role]] = field.files;
    }
    keepPhotos(kept)
      .catch(() => {}) // private windows may refuse: the upload goes on regardless
      .finally(() => {
        this.form.dataset.kept = "1";
        this.form.submit();
      });
  }

  ready() {
    delete this.form.dataset.kept; // back from the job page: the form works again
    const button = this.form.querySelector("[data-submit]");
    button.disabled = false;
    button.textContent = "Swap faces";
  }

  // After a server-side error (data-restore) or "swap again" (?keep=source,target).
  async restore() {
    const asked = new URLSearchParams(window.location.search).get("keep");
    const roles =
      this.form.dataset.restore === "all"
        ? Object.keys(this.fields)
        : (asked || "").split(",").filter((role) => role in this.fields);
    for (const role of roles) {
      let files = [];
      try {
        files = await keptPhotos(FIELD_OF[role]);
      } catch (error) {
        return;
      }
      if (files.length) {
        await this.fields[role].take(files, "Kept from your last try.");
      }
    }
  }
}

const form = document.getElementById("swap-form");
if (form) {
  document.querySelectorAll("[data-js-only]").forEach((element) => {
    element.hidden = false;
  });
  const page = new UploadPage(form);
  page.restore();
}
