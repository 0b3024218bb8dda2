"""Errors a user can cause. Each carries a one-line message naming the file,
record or key at fault; the CLI prints it without a traceback."""


class XwbError(Exception):
    """A user-facing error: bad input, a missing file, a refused operation."""


class StoreError(XwbError):
    """The project store refused or failed an operation. Backends raise this family, never a driver's own
    exception, so code above the store handles SQLite and a server the same way."""


class ProjectBusyError(StoreError):
    """Another process held the project's write lock for longer than the timeout."""


class StoreReadOnlyError(StoreError):
    """The store cannot be written here: opened read-only, or its file, folder or medium is read-only."""


class StoreFullError(StoreError):
    """The disk (or the server's quota) is full; the change was not saved."""


class SchemaTooNewError(StoreError):
    """The store was written by a newer xwb; opening it read-write could corrupt it."""
