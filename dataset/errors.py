"""Typed errors of :mod:`hloenv.dataset`."""

from __future__ import annotations


class DatasetError(Exception):
    """Base class of every error raised by :mod:`hloenv.dataset`."""


class UnsafeArchiveError(DatasetError):
    """An archive was refused: a member escapes the destination, is a link or device, or is too big.

    Attributes:
        archive: The archive's path.
        member: The offending member's name ("" when the archive as a whole breaks a limit).
        reason: What is wrong with it.
    """

    def __init__(self, archive: str, member: str, reason: str) -> None:
        self.archive = archive
        self.member = member
        self.reason = reason
        where = f"member {member!r}: " if member else ""
        super().__init__(f"unsafe archive {archive}: {where}{reason}")


class FrontendUnavailable(DatasetError):
    """An optional frontend (TensorFlow) is not installed."""


class HarvestError(DatasetError):
    """Harvesting could not run the program or found nothing to collect."""
