"""The goldens: committed outputs the tests hold the program to, byte for byte, and their paths.

scripts/samples.py writes every one of them; run it after a change that is meant to change output.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
SAMPLES = ROOT / "samples"
OUTPUTS = {"txt": "terminal", "json": "json", "md": "markdown"}
KEY_TYPST = ROOT / "tests" / "golden" / "default-key.typ"  # the default config's key, as Typst


def sample_paths(config: Path) -> dict[str, Path]:
    """Where a config's run is kept, by output format.

    >>> sample_paths(Path("configs/batch.yaml"))["markdown"].relative_to(ROOT).as_posix()
    'samples/batch.md'
    """
    return {fmt: SAMPLES / f"{config.stem}.{ext}" for ext, fmt in OUTPUTS.items()}


# The page the README shows: the worksheet's first, and the key's second, where the answers begin
PICTURED_PAGE = {"worksheet": 1, "key": 2}


def document_paths(name: str) -> tuple[Path, Path]:
    """The default config's worksheet or key (`name`): its PDF and a PNG of its pictured page."""
    page = PICTURED_PAGE[name]
    return SAMPLES / f"default-{name}.pdf", SAMPLES / f"default-{name}-page{page}.png"
