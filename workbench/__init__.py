"""The PySide6 workbench and the ``xwb`` command line (the top layer).

Importing this package does not import Qt: ``workbench.cli`` dispatches to
every layer, and only the ``gui`` subcommand loads the Qt modules.
"""
