"""Errors a user can cause. Each carries a one-line message naming the file,
record or key at fault; the CLI prints it without a traceback."""


class XwbError(Exception):
    """A user-facing error: bad input, a missing file, a refused operation."""


class ProjectBusyError(XwbError):
    """Another process held the project's write lock for longer than the timeout."""


class SchemaTooNewError(XwbError):
    """The store was written by a newer xwb; opening it read-write could corrupt it."""
