"""Exceptions of the dossier package; all derive from :class:`DossierError`."""

from __future__ import annotations

import errno


class DossierError(Exception):
    """Root of every error raised by ``models``."""


class MigrationError(DossierError):
    """A schema upgrade or downgrade could not be carried out."""


class AuditError(DossierError):
    """The audit chain could not be appended to."""


class BlobError(DossierError):
    """Root of blob-store errors."""


class BlobNotFoundError(BlobError):
    """No blob with the requested address exists."""


class BlobTooLargeError(BlobError):
    """A blob exceeded the store's size limit; nothing was stored."""


class BlobStoreFullError(BlobError):
    """The blob store's disk (or quota) is full; nothing was stored."""


class SearchError(DossierError):
    """A search request was malformed (e.g. an empty query)."""


def is_disk_full(exc: BaseException) -> bool:
    """An OSError saying the disk or the quota is full (as opposed to a bug or a missing file)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


SQLITE_FULL = 13  # "database or disk is full"
PG_DISK_FULL = "53100"  # SQLSTATE disk_full: "could not extend file …: No space left on device"


def is_database_full(exc: BaseException) -> bool:
    """A database error saying the disk under the database is full (SQLite's SQLITE_FULL, PostgreSQL's
    disk_full), raised by the driver or wrapped by SQLAlchemy (its ``orig``)."""
    driver = getattr(exc, "orig", None) or exc
    code = getattr(driver, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == SQLITE_FULL) or getattr(driver, "sqlstate", None) == PG_DISK_FULL
