"""Exceptions of the dossier package; all derive from :class:`DossierError`."""

from __future__ import annotations


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


class SearchError(DossierError):
    """A search request was malformed (e.g. an empty query)."""
