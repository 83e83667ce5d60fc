"""Every carecal command starts by importing the whole CLI: the heavy libraries that only
some commands need must not load then (a coordinator's `carecal override ...` would wait
for OR-Tools, pandas, the PDF library or the web framework for nothing)."""

import subprocess
import sys

LOADED_ONLY_WHEN_USED = ("ortools", "pandas", "fpdf", "starlette")


def test_the_cli_imports_no_solver_or_pdf_library_until_a_command_needs_it():
    probe = f"import sys, carecal.cli.main\nprint(' '.join(m for m in {LOADED_ONLY_WHEN_USED!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_the_solver_package_loads_its_engine_on_first_use():
    probe = (
        "import sys, solver\n"
        "before = 'solver.engine' in sys.modules\n"
        "solver.solve\n"
        "print(before, 'solver.engine' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
