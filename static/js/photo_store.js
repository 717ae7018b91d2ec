// The photos last chosen on the upload page, kept in this browser's IndexedDB (Blobs,
// any size) so a server-side error or "swap again" does not make people choose them
// again. Nothing here leaves the browser; logging out forgets them (forgetPhotos).
const DB_NAME = "faceswap-photos";
const STORE = "fields";

function open() {
  return new Promise((resolve, reject) => {
    if (!window.indexedDB) {
      reject(new Error("no IndexedDB"));
      return;
    }
    const request = window.indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

// fields: {name: [File, ...]}; replaces what was kept before.
export async function keepPhotos(fields) {
  const db = await open();
  const transaction = db.transaction(STORE, "readwrite");
  const store = transaction.objectStore(STORE);
  store.clear();
  for (const [name, files] of Object.entries(fields)) {
    store.put(files.map((file) => ({ name: file.name, type: file.type, blob: file })), name);
  }
  await done(transaction);
  db.close();
}

// The kept files of `name` (an empty list when none).
export async function keptPhotos(name) {
  const db = await open();
  const transaction = db.transaction(STORE, "readonly");
  const request = transaction.objectStore(STORE).get(name);
  await done(transaction);
  db.close();
  return (request.result || []).map(
    (item) => new File([item.blob], item.name, { type: item.type })
  );
}

export async function forgetPhotos() {
  const db = await open();
  const transaction = db.transaction(STORE, "readwrite");
  transaction.objectStore(STORE).clear();
  await done(transaction);
  db.close();
}
