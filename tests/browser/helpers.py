"""Steps the browser tests share: files into drop zones, the upload, the wait for a result."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCE = FIXTURES / "grace_hopper.jpg"
TARGET = FIXTURES / "astronaut.jpg"

# A DataTransfer holding one File made from base64, as a drop or a paste carries it.
_TRANSFER_JS = """([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  return transfer;
}"""


def transfer_of(page: Any, path: Path, type_: str = "image/jpeg") -> Any:
    data = base64.b64encode(path.read_bytes()).decode()
    return page.evaluate_handle(_TRANSFER_JS, [path.name, type_, data])


def drop_file(page: Any, role: str, path: Path, type_: str = "image/jpeg") -> None:
    """Drag-and-drop `path` onto the drop zone of `role` (source, target, reference)."""
    zone = f"[data-photo-field={role}] [data-dropzone]"
    transfer = transfer_of(page, path, type_)
    page.dispatch_event(zone, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(zone, "drop", {"dataTransfer": transfer})


def paste_file(page: Any, role: str, path: Path) -> None:
    """Click the drop zone of `role`, then paste `path` as the clipboard would."""
    page.click(f"[data-photo-field={role}] .dropzone-hint")
    transfer = transfer_of(page, path)
    page.evaluate(
        "(t) => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: t}))", transfer
    )


def face_box(page: Any, role: str, index: int) -> Any:
    return page.locator(f"[data-face-layer={role}] [data-face-index='{index}']")


def choose_photos(page: Any) -> None:
    """Pick both photos with the file inputs and wait for their face boxes."""
    page.set_input_files("#id_source_image", str(SOURCE))
    page.set_input_files("#id_target_image", str(TARGET))
    face_box(page, "source", 0).wait_for()
    face_box(page, "target", 0).wait_for()


def submit_and_wait_for_result(page: Any) -> None:
    page.check("#id_consent")
    page.click("[data-submit]")
    page.wait_for_url("**/swaps/*/")
    page.locator("[data-download]").wait_for(timeout=60_000)


def files_in(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector(selector, "(input) => Array.from(input.files, (f) => f.name)")
