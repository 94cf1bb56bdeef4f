"""Regenerate samples/: each config's terminal text (80 columns), JSON and Markdown, via the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"txt": "terminal", "json": "json", "md": "markdown"}


def sample_paths(config: Path) -> dict[str, Path]:
    return {fmt: ROOT / "samples" / f"{config.stem}.{ext}" for ext, fmt in OUTPUTS.items()}


def handcalc(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "handcalc", *args], check=True)


def main() -> None:
    (ROOT / "samples").mkdir(exist_ok=True)
    for config in sorted((ROOT / "configs").glob("*.yaml")):
        for fmt, path in sample_paths(config).items():
            handcalc("run", str(config), "--format", fmt, "--output", str(path), "--force")
            print(f"wrote {path.relative_to(ROOT)}")
    documents()


def documents() -> None:
    """The default config's worksheet and key as PDF, and their first pages as PNG."""
    from handcalc.config import load as config
    from handcalc.documents import paper as document
    from handcalc.model.runner import make_trace
    from handcalc.render import typst
    from handcalc.render.pdf import png_pages

    t = make_trace(config.load(None))
    for name, key in (("worksheet", False), ("key", True)):
        pdf = ROOT / "samples" / f"default-{name}.pdf"
        handcalc("worksheet", "--output", str(pdf), "--force", *(["--key"] if key else []))
        source = typst.document(document.build(t, key=key))
        (ROOT / "samples" / f"default-{name}-page1.png").write_bytes(png_pages(source, 80)[0])
        if key:
            (ROOT / "tests" / "golden" / "default-key.typ").write_text(source)
        print(f"wrote samples/default-{name}.pdf and its first page")


if __name__ == "__main__":
    main()
