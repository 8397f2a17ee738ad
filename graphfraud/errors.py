"""One exception tree for the whole product.

Every error a user can cause or meet derives from :class:`GraphFraudError`, so the CLI and the
API turn them into a clean message (and an exit code or HTTP status) without a stack trace.
"""

from __future__ import annotations


class GraphFraudError(Exception):
    """Root of every error graphfraud raises on purpose."""


class ConfigError(GraphFraudError):
    """A setting, store URL or mapping spec is invalid."""


class InputError(GraphFraudError):
    """Input data is unusable; says where: file, row, column."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            f"{name} {value}"
            for name, value in (("file", file), ("row", row), ("column", column))
            if value is not None
        )
        super().__init__(f"{message} ({where})" if where else message)


class StoreError(GraphFraudError):
    """The graph store failed to do what was asked."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (server down, wrong credentials, missing driver)."""


class StoreLocked(StoreUnavailable):
    """Another process holds the embedded store (a running ``graphfraud serve``)."""


class NotFound(GraphFraudError):
    """A ring, account or identifier that was asked for does not exist."""
