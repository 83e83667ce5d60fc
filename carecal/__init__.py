"""carecal: weekly rosters, calendar feeds and billing for low-threshold care services.

The application (database, workflows, exports, feeds) lives here; the optimisation model is
the separate, pure package `solver`, reached only through the carecal-instance/1 and
carecal-roster/1 documents.
"""

__version__ = "0.1.0"
