"""Render an HTML report in headless Chromium: page size and a full-page PNG to look at.

Used by ``scripts/render_report.sh`` and the render test. Chromium is an optional system
dependency (Debian: ``apt-get install chromium``); :func:`find_chromium` returns ``None``
without it. The page is loaded from a local file with networking features off; the size probe
renders a copy of the page with one line of script that writes the document's scroll size into
its title, so the report itself stays script-free.

Usage::

    python -m sim.report.screenshot runs/base/report.html [out.png] [--width 1000]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEFAULT_WIDTH = 1000
"""CSS pixels: about an A4 page at 96 dpi with the report's margins (A4 is 794 px wide)."""
MAX_HEIGHT = 30_000
_PROBE = (
    "<script>document.title='SIZE:'+document.documentElement.scrollWidth+'x'"
    "+document.documentElement.scrollHeight</script>"
)


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or ``None`` if none is installed."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium found (tried: " + ", ".join(CANDIDATES) + ")")
    with tempfile.TemporaryDirectory(prefix="corridor-sim-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def page_size(html_path: Path, width: int = DEFAULT_WIDTH, timeout: float = 60) -> tuple[int, int]:
    """Return the rendered page's (scroll width, scroll height) in CSS pixels at ``width``.

    A scroll width larger than ``width`` means something (a table, an image) overflows.
    """
    text = Path(html_path).read_text(encoding="utf-8")
    probe_html = text.replace("</body>", _PROBE + "</body>") if "</body>" in text else text + _PROBE
    with tempfile.TemporaryDirectory(prefix="corridor-sim-probe-") as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(probe_html, encoding="utf-8")
        res = _run([f"--window-size={width},1000", "--dump-dom", probe.as_uri()], timeout)
    m = re.search(r"SIZE:(\d+)x(\d+)", res.stdout)
    if not m:
        raise RuntimeError(
            f"Chromium gave no page size (exit {res.returncode}): {res.stderr[-500:]}"
        )
    return int(m.group(1)), int(m.group(2))


def screenshot(
    html_path: Path, out: Path, width: int = DEFAULT_WIDTH, timeout: float = 120
) -> tuple[int, int]:
    """Write a full-page PNG of ``html_path`` to ``out``; return the page size (CSS pixels)."""
    w, h = page_size(html_path, width, timeout)
    height = min(h, MAX_HEIGHT)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    res = _run(
        [
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            Path(html_path).resolve().as_uri(),
        ],
        timeout,
    )
    if not out.is_file():
        raise RuntimeError(
            f"Chromium wrote no screenshot (exit {res.returncode}): {res.stderr[-500:]}"
        )
    return w, h


def main(argv: list[str] | None = None) -> int:
    """Screenshot a report; exit 1 if the page is wider than the window."""
    p = argparse.ArgumentParser(
        prog="python -m sim.report.screenshot", description=__doc__.split("\n")[0]
    )
    p.add_argument("html", type=Path, help="report.html, or a run/experiment directory")
    p.add_argument("out", type=Path, nargs="?", help="PNG (default: beside the report)")
    p.add_argument("--width", type=int, default=DEFAULT_WIDTH)
    args = p.parse_args(argv)
    html_path = args.html / "report.html" if args.html.is_dir() else args.html
    out = args.out or html_path.with_suffix(".png")
    w, h = screenshot(html_path, out, args.width)
    print(f"wrote {out} ({args.width} x {min(h, MAX_HEIGHT)} px; page {w} x {h})")
    if w > args.width:
        print(f"warning: the page is {w - args.width} px wider than the window", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
