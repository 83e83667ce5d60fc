"""Master data: the association, its volunteers, clients and care requests, in and out of files.

The column layout is in `layout`, cell parsing in `codecs`, the import in `importer`
(validate all, then upsert by external id), the export in `exporter`.
"""

from carecal.masterdata.exporter import export_csv, export_file, export_rows
from carecal.masterdata.importer import ImportReport, Problem, import_file
from carecal.masterdata.layout import LAYOUTS
from carecal.masterdata.organisation import load_organisation

__all__ = [
    "ImportReport",
    "LAYOUTS",
    "Problem",
    "export_csv",
    "export_file",
    "export_rows",
    "import_file",
    "load_organisation",
]
