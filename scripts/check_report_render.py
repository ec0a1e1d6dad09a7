"""Open an evaluation report in headless Chromium and check that every figure renders.

    python scripts/check_report_render.py [OUT/report.html] [--screenshot shot.png]

Without a report, one is made first: `stylometric` on the bundled enron_demo, every protocol, 16 accounts.
Two checks: (1) a copy of the page with a small inline script that records, once loaded, each <img>'s
naturalWidth/naturalHeight into the DOM, read back with --dump-dom: every image must have decoded (> 0);
(2) a full-page screenshot that must not be blank (pixel values vary). Needs Debian's chromium:
`apt-get update && apt-get install -y chromium` (this script never installs anything).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1200,2400",
]
PROBE = """<script>
window.addEventListener("load", () => {
  const sizes = Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight, i.complete]);
  const out = document.createElement("pre");
  out.id = "img-check";
  out.textContent = JSON.stringify(sizes);
  document.body.appendChild(out);
});
</script>"""


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def make_demo_report(folder: Path) -> Path:
    from authorid.data.readers import read_posts
    from authorid.workflows.evaluate import evaluate

    posts, _ = read_posts("enron_demo")
    run = evaluate("stylometric", posts, protocol="all", accounts=16, out=folder, corpus="enron_demo")
    return Path(run["outputs"]["report"])


def run_chromium(chromium: str, args: list[str], profile: Path) -> subprocess.CompletedProcess:
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def image_sizes(chromium: str, report: Path, work: Path) -> list[list]:
    """[naturalWidth, naturalHeight, complete] of every <img>, as Chromium decoded them."""
    probed = work / "probed.html"
    probed.write_text(
        report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    # --virtual-time-budget lets the load event (and the probe) run before the DOM is dumped.
    result = run_chromium(
        chromium, ["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], work / "p1"
    )
    found = re.search(r'<pre id="img-check">(.*?)</pre>', result.stdout, flags=re.S)
    if not found:
        raise SystemExit(f"chromium did not run the probe (exit {result.returncode}): {result.stderr[-500:]}")
    return json.loads(found.group(1))


def screenshot(chromium: str, report: Path, target: Path, work: Path) -> None:
    result = run_chromium(chromium, [f"--screenshot={target}", report.as_uri()], work / "p2")
    if not target.is_file():
        raise SystemExit(f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-500:]}")


def is_blank(png: Path) -> bool:
    from matplotlib.image import imread

    pixels = imread(png)
    return float(pixels[..., :3].std()) < 1e-3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, help="report.html (default: make a demo report)")
    parser.add_argument("--screenshot", type=Path, default=Path("report-screenshot.png"))
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found; install it with: apt-get update && apt-get install -y chromium")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = args.report or make_demo_report(work / "run")
        expected = report.read_text(encoding="utf-8").count('<img src="data:image/png;base64,')
        sizes = image_sizes(chromium, report, work)
        screenshot(chromium, report, args.screenshot, work)
    broken = [i for i, (w, h, _) in enumerate(sizes) if not (w > 0 and h > 0)]
    print(f"report: {report}")
    print(f"images in the page: {expected}; decoded by chromium: {len(sizes) - len(broken)} of {len(sizes)}")
    print("sizes: " + ", ".join(f"{w}x{h}" for w, h, _ in sizes))
    blank = is_blank(args.screenshot)
    print(f"screenshot: {args.screenshot} ({'BLANK' if blank else 'not blank'})")
    ok = expected > 0 and len(sizes) == expected and not broken and not blank
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
