"""From the click on "Swap faces" to the download link on the job page, in a real browser.

Starts the web server and a django-q2 worker on a throwaway database (as the browser
tests do), signs up, and --runs times: chooses a ~1 MP source and target (the fixture
photos scaled to 1024x1024), waits for the face boxes, clicks, and measures until the
job page shows its download link. Also prints the job's own processing time, so what the
page adds (upload, the worker's pick-up, the 250 ms status reads, the reload) shows.

    .venv/bin/python benchmarks/result_latency.py --runs 10

Needs /usr/bin/chromium (apt-get install chromium). Figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.site import chromium, running_site, sign_up  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SIDE = 1024  # 1024 x 1024: about 1 MP


def one_megapixel(name: str, out: Path) -> Path:
    path = out / f"{Path(name).stem}_1mp.jpg"
    Image.open(FIXTURES / name).convert("RGB").resize((SIDE, SIDE)).save(path, quality=92)
    return path


def one_run(page, source: Path, target: Path) -> tuple[float, float]:
    page.goto("/swaps/new/")
    page.set_input_files("#id_source_image", str(source))
    page.set_input_files("#id_target_image", str(target))
    page.locator("[data-face-layer=target] [data-face-index='0']").wait_for()
    page.check("#id_consent")
    started = time.perf_counter()
    page.click("[data-submit]")
    page.locator("[data-download]").wait_for(timeout=60_000)
    seconds = time.perf_counter() - started
    processing = page.locator("dt:has-text('Processing time') + dd").inner_text()
    return seconds, float(processing.removesuffix(" s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = one_megapixel("grace_hopper.jpg", work)
        target = one_megapixel("astronaut.jpg", work)
        with running_site(work / "site") as server, chromium() as browser:
            page = browser.new_page(base_url=server.url)
            page.set_default_timeout(60_000)
            sign_up(page)
            one_run(page, source, target)  # warm-up: the worker loads its models
            runs = [one_run(page, source, target) for _ in range(args.runs)]
    clicks = sorted(seconds for seconds, _ in runs)
    work_s = [processing for _, processing in runs]
    print("| runs | click to download link: median | p90 | max | job processing: median |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    p90 = clicks[min(len(clicks) - 1, round(0.9 * (len(clicks) - 1)))]
    print(
        f"| {len(clicks)} | {statistics.median(clicks):.2f} s | {p90:.2f} s | "
        f"{clicks[-1]:.2f} s | {statistics.median(work_s):.2f} s |"
    )


if __name__ == "__main__":
    main()
