"""`make screenshots`: small PNGs of the main pages, for the README (docs/screenshots/).

Runs the site as the browser tests do (web server, worker, throwaway database), signs up,
makes a swap and takes each page at a desktop width (1100 px) and the upload page and job
page at a phone width (390 px). Needs /usr/bin/chromium.

    .venv/bin/python -m tests.browser.screenshots --out docs/screenshots
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from tests.browser.site import chromium, running_site, sign_up

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}
MAX_WIDTH = 900  # px of the PNG: small in the repository, readable in the README
COLOURS = 256  # a palette PNG is a fraction of a full-colour one


def save(page: Any, out: Path, name: str, *, full_page: bool = True) -> None:
    """A screenshot, scaled to at most MAX_WIDTH and palettised, as out/name.png."""
    shot = Image.open(io.BytesIO(page.screenshot(full_page=full_page)))
    if shot.width > MAX_WIDTH:
        shot = shot.resize((MAX_WIDTH, round(shot.height * MAX_WIDTH / shot.width)))
    small = shot.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(out / f"{name}.png", optimize=True)


def take(page: Any, out: Path) -> None:
    page.goto("/")
    save(page, out, "home", full_page=False)
    sign_up(page)
    page.set_input_files("#id_source_image", str(FIXTURES / "grace_hopper.jpg"))
    page.set_input_files("#id_target_image", str(FIXTURES / "astronaut.jpg"))
    page.locator("[data-face-layer=target] [data-face-index='0']").wait_for()
    page.check("#id_consent")
    save(page, out, "upload")
    page.click("[data-submit]")
    page.locator("[data-download]").wait_for(timeout=60_000)
    page.fill("[data-compare-range]", "30")  # the divider beside the face, not through it
    save(page, out, "result")
    job_page = page.url
    page.goto("/swaps/")
    save(page, out, "my-swaps")
    page.goto("/dashboard/")
    save(page, out, "dashboard")
    page.set_viewport_size(PHONE)
    page.goto("/swaps/new/")
    save(page, out, "upload-phone", full_page=False)
    page.goto(job_page)
    page.fill("[data-compare-range]", "30")
    page.locator(".compare").scroll_into_view_if_needed()
    save(page, out, "result-phone", full_page=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the main pages.")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_site(Path(tmp)) as server,
        chromium() as browser,
    ):
        page = browser.new_page(base_url=server.url, viewport=DESKTOP)
        page.set_default_timeout(60_000)
        take(page, args.out)
    for path in sorted(args.out.glob("*.png")):
        print(f"{path} {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
