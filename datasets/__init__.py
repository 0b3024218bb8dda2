"""The Qt- and torch-free core of X-ray Workbench.

Project store, scan IO, taxonomy, interchange formats, splits, dataset digests
and synthetic scans. Everything here runs from a plain Python script; nothing
in this package may import Qt, torch or the layers above it (a test enforces
it).
"""
from datasets.errors import ProjectBusyError, SchemaTooNewError, XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.scanio import Scan, ScanInfo, read_scan, scan_info
from datasets.taxonomy import RegionClass, Taxonomy

__all__ = [
    "XwbError", "ProjectBusyError", "SchemaTooNewError",
    "Taxonomy", "RegionClass", "Scan", "ScanInfo", "read_scan", "scan_info",
    "Region", "Project",
]
