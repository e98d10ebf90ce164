"""One exception root for the platform, so every caller (the CLI, the HTTP API later) maps failures in one place.

Each class also derives from the built-in its callers have always caught (ValueError, KeyError, RuntimeError).
"""

from __future__ import annotations


class MacroAssetsError(Exception):
    """Root of every error the platform raises on purpose."""


class InvalidInput(MacroAssetsError, ValueError):
    """A caller's argument is malformed: a bad date, an empty id list, a window that ends before it starts."""


class CatalogError(MacroAssetsError, ValueError):
    """The catalog is inconsistent; the message names the dataset (or instrument) and the field."""


class UnknownDataset(MacroAssetsError, KeyError):
    """A dataset id that neither the catalog nor the warehouse knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class FrameError(InvalidInput):
    """A frame handed to the write path is malformed; the message names the column."""


class SourcePayloadError(MacroAssetsError, ValueError):
    """Bad input that makes a whole payload unusable. The message names the source, the dataset and the field."""

    def __init__(self, source: str, dataset_id: str, field: str, problem: str):
        self.source, self.dataset_id, self.field, self.problem = source, dataset_id, field, problem
        super().__init__(f"{source} dataset {dataset_id}: field {field!r}: {problem}")

    def __reduce__(self):
        # Dagster's multiprocess executor pickles errors; the default reduce would re-call __init__ with one arg.
        return type(self), (self.source, self.dataset_id, self.field, self.problem)


class MissingCredentials(MacroAssetsError, RuntimeError):
    """Live mode lacks (or has a malformed) secret; the message names the variable, never its value."""


class MigrationError(MacroAssetsError, RuntimeError):
    """A schema migration cannot be applied (an applied file was edited, or its SQL failed)."""
