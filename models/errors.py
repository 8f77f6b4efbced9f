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
