"""Where the association's data files live: `data/` at the top of the project."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
