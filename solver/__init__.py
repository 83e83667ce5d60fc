"""carecal's weekly matcher: carecal-instance/1 in, carecal-roster/1 out (docs/format.md).

Pure: the standard library, OR-Tools CP-SAT and jsonschema; files only through the CLI.
"""

from solver.engine import explain, solve
from solver.instance import SCHEMA_DIR, Instance, InstanceError, load_instance
from solver.matching import pairing_breaks
from solver.params import SearchParams
from solver.pins import place_pins

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
