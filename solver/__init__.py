"""carecal's weekly matcher: carecal-instance/1 in, carecal-roster/1 out (docs/format.md).

Pure: the standard library, OR-Tools CP-SAT, NumPy and jsonschema; files only through the CLI.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from solver.engine import explain, solve
    from solver.instance import SCHEMA_DIR, Instance, InstanceError, load_instance
    from solver.matching import pairing_breaks
    from solver.params import SearchParams
    from solver.pins import place_pins

# Loaded on first use: OR-Tools takes a second to import, and the application imports the
# solver's light parts (travel, districts, matching) for commands that never solve.
_HOMES = {
    "solve": "solver.engine",
    "explain": "solver.engine",
    "InstanceError": "solver.instance",
    "Instance": "solver.instance",
    "load_instance": "solver.instance",
    "SCHEMA_DIR": "solver.instance",
    "place_pins": "solver.pins",
    "pairing_breaks": "solver.matching",
    "SearchParams": "solver.params",
}
__all__ = [
    "solve",
    "explain",
    "InstanceError",
    "Instance",
    "load_instance",
    "place_pins",
    "pairing_breaks",
    "SearchParams",
    "SCHEMA_DIR",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
