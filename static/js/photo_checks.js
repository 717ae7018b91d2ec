// The checks the server makes on each photo, made before uploading it: type, size and
// pixel count, with the limits the page was rendered with (the server checks again).
const TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];
const EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".gif"];

function megabytes(bytes) {
  const mb = Math.round((bytes / (1024 * 1024)) * 10) / 10;
  return `${mb} MB`;
}

function knownType(file) {
  if (TYPES.includes(file.type)) {
    return true;
  }
  const name = file.name.toLowerCase();
  return !file.type && EXTENSIONS.some((ext) => name.endsWith(ext));
}

// {ok: true, bitmap} or {ok: false, message} in people's words. The bitmap (upright,
// first frame of a GIF) is the caller's to close.
export async function checkPhoto(file, photo, limits) {
  const unreadable = `The ${photo} is not a JPEG, PNG, WebP or GIF image we can read.`;
  if (!knownType(file)) {
    return { ok: false, message: unreadable };
  }
  if (file.size > limits.maxBytes) {
    return { ok: false, message: `The ${photo} is larger than ${megabytes(limits.maxBytes)}.` };
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    return { ok: false, message: unreadable };
  }
  if (bitmap.width * bitmap.height > limits.maxPixels) {
    bitmap.close();
    const millions = Math.round(limits.maxPixels / 1e5) / 10;
    return {
      ok: false,
      message: `The ${photo} has too many pixels: at most ${millions} million.`,
    };
  }
  return { ok: true, bitmap };
}
