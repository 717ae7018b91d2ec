// Face boxes over the photo previews. Each photo is shrunk in the browser (at most
// DETECT_SIDE pixels a side) and sent to the page's face finder (free, same limits as
// POST /api/v1/detect); each face found becomes a button with data-face-index="N".
// Clicking faces writes the face lists ("0", "1,0", "all") into the form's text fields,
// which stay usable by hand; the boxes follow what is typed there.
const DETECT_SIDE = 1280;

export function parseFaces(text) {
  const value = (text || "").trim().toLowerCase();
  if (value === "all") {
    return "all";
  }
  if (!value) {
    return [0];
  }
  const parts = value.split(",").map((part) => Number.parseInt(part.trim(), 10));
  return parts.every((n) => Number.isInteger(n) && n >= 0) ? parts : [];
}

async function shrink(bitmap) {
  const scale = Math.min(1, DETECT_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
}

// The faces of one photo: {width, height, faces: [{index, box}]}; throws Error(message).
export async function detectFaces(bitmap, role, url, csrfToken) {
  const body = new FormData();
  body.append("role", role);
  body.append("image", await shrink(bitmap), "photo.jpg");
  const response = await fetch(url, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
  });
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  const data = isJson ? await response.json() : null;
  if (!response.ok || !data) {
    const fallback =
      response.status === 429
        ? "Too many photos checked in a short time: wait a minute, then choose again."
        : "We could not look for faces in this photo right now.";
    throw new Error(data && data.error ? data.error.message : fallback);
  }
  return data;
}

function place(button, box, size) {
  const [x, y, w, h] = box;
  button.style.setProperty("left", `${(100 * x) / size.width}%`);
  button.style.setProperty("top", `${(100 * y) / size.height}%`);
  button.style.setProperty("width", `${(100 * w) / size.width}%`);
  button.style.setProperty("height", `${(100 * h) / size.height}%`);
}

// Buttons over `layer`, one per face, numbered from `offset` (sources are numbered
// together, photo by photo).
export function drawBoxes(layer, detection, offset, label) {
  layer.replaceChildren();
  for (const face of detection.faces) {
    const index = offset + face.index;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "face-box";
    button.dataset.faceIndex = String(index);
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", `${label}: face ${index}${index === 0 ? " (the largest)" : ""}`);
    const badge = document.createElement("span");
    badge.className = "face-number";
    badge.textContent = String(index);
    button.append(badge);
    place(button, face.box, detection);
    layer.append(button);
  }
}

// One text field (source_face or target_face) and the boxes that choose into it.
export class FaceChoice {
  constructor(input, boxesOf, { allowAll = false, allButton = null } = {}) {
    this.input = input;
    this.boxesOf = boxesOf; // () => the current buttons
    this.allowAll = allowAll;
    this.allButton = allButton;
    // Until a face is clicked, the first click replaces the default "0" instead of
    // adding to it; a list typed or kept from an earlier try counts as a choice.
    this.touched = input.value.trim() !== "0" && input.value.trim() !== "";
    input.addEventListener("input", () => {
      this.touched = true;
      this.show();
    });
    if (allButton) {
      allButton.addEventListener("click", () => {
        const isAll = parseFaces(input.value) === "all";
        this.write(isAll ? [0] : "all");
      });
    }
  }

  toggle(index) {
    if (!this.touched) {
      this.touched = true;
      this.write([index]);
      return;
    }
    let chosen = parseFaces(this.input.value);
    chosen = chosen === "all" ? [] : chosen;
    const at = chosen.indexOf(index);
    if (at >= 0 && chosen.length > 1) {
      chosen.splice(at, 1);
    } else if (at < 0) {
      chosen.push(index);
    }
    this.write(chosen);
  }

  write(chosen) {
    this.input.value = chosen === "all" ? "all" : chosen.join(",");
    this.show();
  }

  show() {
    const chosen = parseFaces(this.input.value);
    for (const button of this.boxesOf()) {
      const index = Number(button.dataset.faceIndex);
      const on = chosen === "all" || chosen.includes(index);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (this.allButton) {
      this.allButton.setAttribute("aria-pressed", chosen === "all" ? "true" : "false");
    }
  }
}
