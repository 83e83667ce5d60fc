"""carecal's weekly matcher: carecal-instance/1 in, carecal-roster/1 out (docs/format.md).

Pure: the standard library, OR-Tools CP-SAT and jsonschema; files only through the CLI.
"""

from solver.engine import explain, solve
from solver.instance import SCHEMA_DIR, InstanceError, load_instance

__all__ = ["solve", "explain", "InstanceError", "load_instance", "SCHEMA_DIR"]
