"""Regenerate samples/: each config's terminal text (80 columns), JSON and Markdown, via the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"txt": "terminal", "json": "json", "md": "markdown"}


def sample_paths(config: Path) -> dict[str, Path]:
    return {fmt: ROOT / "samples" / f"{config.stem}.{ext}" for ext, fmt in OUTPUTS.items()}


def main() -> None:
    (ROOT / "samples").mkdir(exist_ok=True)
    for config in sorted((ROOT / "configs").glob("*.yaml")):
        for fmt, path in sample_paths(config).items():
            args = ["run", str(config), "--format", fmt, "--output", str(path), "--force"]
            subprocess.run([sys.executable, "-m", "handcalc", *args], check=True)
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
