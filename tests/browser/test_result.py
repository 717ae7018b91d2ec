"""From the click to the result: progress, compare, zoom, download, swap again, My swaps
(thumbnails, delete per row, bulk delete)."""

from __future__ import annotations

import pytest

from tests.browser.helpers import choose_photos, face_box, files_in, submit_and_wait_for_result

pytestmark = pytest.mark.browser


def test_the_result_arrives_compares_zooms_and_downloads(signed_in):
    page = signed_in
    choose_photos(page)
    submit_and_wait_for_result(page)  # the job page follows the job by itself

    assert page.locator("[data-stage=done][aria-current=step]").count() == 1
    after = page.locator("[data-after]")
    assert "/preview/result/" in after.get_attribute("src")  # screen-sized, not full size
    page.fill("[data-compare-range]", "20")
    split = page.eval_on_selector(
        "[data-compare-frame]", "(f) => f.style.getPropertyValue('--split')"
    )
    assert split == "20%"
    page.click("[data-zoom=in]")
    assert page.inner_text("[data-zoom-level]") == "150%"
    frame, scroll = (
        page.eval_on_selector(s, "(e) => e.getBoundingClientRect().width")
        for s in ("[data-compare-frame]", "[data-compare-scroll]")
    )
    assert frame > scroll * 1.4  # zoomed in: wider than its box, which scrolls

    with page.expect_download() as download:
        page.click("[data-download]")
    path = download.value.path()
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"  # the full JPEG

    page.click("text=Keep the target photo")
    face_box(page, "target", 0).wait_for()
    assert files_in(page, "#id_target_image") == ["astronaut.jpg"]
    assert files_in(page, "#id_source_image") == []


def test_my_swaps_thumbnails_delete_per_row_and_in_bulk(signed_in):
    page = signed_in
    page.on("dialog", lambda dialog: dialog.accept())
    for _ in range(3):
        page.goto("/swaps/new/")
        choose_photos(page)
        submit_and_wait_for_result(page)

    page.goto("/swaps/")
    rows = page.locator("table.jobs tbody tr")
    assert rows.count() == 3
    thumbnails = page.locator(".cell-thumb img")
    assert thumbnails.count() == 3
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.cell-thumb img')).every(i => i.naturalWidth > 0)"
    )

    rows.first.get_by_role("button", name="Delete").click()
    page.locator(".message").filter(has_text="deleted").wait_for()
    assert rows.count() == 2
    page.reload()  # reloading after the delete repeats nothing
    assert rows.count() == 2

    for box in page.locator(".cell-select input").all():
        box.check()
    page.click("text=Delete the ticked swaps")
    page.locator(".message").filter(has_text="2 swaps were deleted").wait_for()
    assert page.locator("table.jobs").count() == 0
