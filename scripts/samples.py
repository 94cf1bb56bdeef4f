"""Regenerate samples/ and tests/golden/: each config's terminal text (80 columns), JSON and
Markdown via the CLI, and the default config's worksheet and key. The paths: tests/goldens.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from goldens import (
    CONFIGS,
    KEY_TYPST,
    PICTURED_PAGE,
    ROOT,
    SAMPLES,
    document_paths,
    sample_paths,
)


def handcalc(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "handcalc", *args], check=True)


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    for config in CONFIGS:
        for fmt, path in sample_paths(config).items():
            handcalc("run", str(config), "--format", fmt, "--output", str(path), "--force")
            print(f"wrote {path.relative_to(ROOT)}")
    documents()


def documents() -> None:
    """The default config's worksheet and key as PDF, a page of each as PNG, the key's source."""
    from handcalc.config import load as config
    from handcalc.documents import paper as document
    from handcalc.model.runner import make_trace
    from handcalc.render import typst
    from handcalc.render.pdf import png_pages

    t = make_trace(config.load(None))
    for name, key in (("worksheet", False), ("key", True)):
        pdf, png = document_paths(name)
        handcalc("worksheet", "--output", str(pdf), "--force", *(["--key"] if key else []))
        source = typst.document(document.build(t, key=key))
        png.write_bytes(png_pages(source, 80)[PICTURED_PAGE[name] - 1])
        if key:
            KEY_TYPST.write_text(source)
        print(f"wrote {pdf.relative_to(ROOT)} and {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
