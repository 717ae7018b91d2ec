"""The upload page in a real browser: drop, pick, paste, checks before upload, the face
picker, photos kept after a server-side error, and a keyboard-only upload."""

from __future__ import annotations

import pytest

from tests.browser.helpers import (
    SOURCE,
    TARGET,
    choose_photos,
    drop_file,
    face_box,
    files_in,
    paste_file,
    submit_and_wait_for_result,
)

pytestmark = pytest.mark.browser


def test_photos_dropped_show_previews_and_face_boxes(signed_in):
    page = signed_in
    drop_file(page, "source", SOURCE)
    drop_file(page, "target", TARGET)

    face_box(page, "source", 0).wait_for()
    face_box(page, "target", 0).wait_for()
    assert files_in(page, "#id_source_image") == ["grace_hopper.jpg"]
    assert files_in(page, "#id_target_image") == ["astronaut.jpg"]
    assert page.locator("[data-photo-field=target] .photo-preview img").count() == 1


def test_a_pasted_photo_goes_to_the_zone_clicked(signed_in):
    page = signed_in
    paste_file(page, "target", TARGET)
    face_box(page, "target", 0).wait_for()
    assert files_in(page, "#id_target_image") == ["astronaut.jpg"]
    assert files_in(page, "#id_source_image") == []


def test_choosing_a_face_in_the_picker_fills_the_form(signed_in):
    page = signed_in
    choose_photos(page)
    box = face_box(page, "target", 0)
    assert box.get_attribute("aria-pressed") == "true"  # the default: the largest face

    page.click("[data-all-faces]")
    assert page.input_value("#id_target_face") == "all"
    box.click()
    assert page.input_value("#id_target_face") == "0"
    assert box.get_attribute("aria-pressed") == "true"


def test_files_are_checked_before_upload(signed_in, tmp_path):
    page = signed_in
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    drop_file(page, "source", text, "text/plain")
    message = page.locator("[data-photo-field=source] [data-photo-message]")
    message.filter(has_text="is not a JPEG, PNG, WebP or GIF image").wait_for()
    assert files_in(page, "#id_source_image") == []

    max_bytes = int(page.get_attribute("#swap-form", "data-max-bytes"))
    big = tmp_path / "big.jpg"
    big.write_bytes(SOURCE.read_bytes() + b"\0" * max_bytes)
    drop_file(page, "target", big)
    page.locator("[data-photo-field=target] [data-photo-message]").filter(
        has_text="The target photo is larger than 15 MB."
    ).wait_for()
    assert files_in(page, "#id_target_image") == []


def test_the_chosen_photos_survive_a_server_side_error(signed_in):
    page = signed_in
    choose_photos(page)
    page.fill("#id_source_face", "0,x")  # only the server refuses this
    page.check("#id_consent")
    page.click("[data-submit]")

    page.locator(".errorlist").filter(has_text="Face numbers separated by commas").wait_for()
    face_box(page, "target", 0).wait_for()  # previews and boxes are back
    assert files_in(page, "#id_source_image") == ["grace_hopper.jpg"]
    assert files_in(page, "#id_target_image") == ["astronaut.jpg"]

    page.fill("#id_source_face", "0")
    submit_and_wait_for_result(page)


def test_keyboard_only_upload(signed_in):
    page = signed_in
    for role, path in (("source", SOURCE), ("target", TARGET)):
        tab_to(page, f"id_{role}_image")
        open_file_chooser(page, f"id_{role}_image").set_files(str(path))
        face_box(page, role, 0).wait_for()
    tab_to(page, "id_consent")
    page.keyboard.press("Space")
    tab_to(page, None, selector="[data-submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/swaps/*/")
    page.locator("[data-download]").wait_for(timeout=60_000)


def open_file_chooser(page, element_id):
    """Enter, else Space, on the focused file input: headless Chromium now and then
    ignores a key that comes right after an earlier chooser closed (the window has
    not taken the focus back yet), so each try first gives the page the focus and
    puts it on the input again, by keyboard, if it moved."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for key in ("Enter", "Space", "Enter", "Space"):
        page.bring_to_front()
        if not page.evaluate(f"document.activeElement?.id === {element_id!r}"):
            tab_to(page, element_id)
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeout:
            continue
    raise AssertionError("the keyboard never opened the file chooser")


def tab_to(page, element_id, selector=None, limit=80):
    """Press Tab until the element has the focus (fails after `limit` presses)."""
    check = (
        f"document.activeElement && document.activeElement.id === {element_id!r}"
        if element_id
        else f"document.activeElement && document.activeElement.matches({selector!r})"
    )
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check):
            return
    raise AssertionError(f"Tab never reached {element_id or selector}")
