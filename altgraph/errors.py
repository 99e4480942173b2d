"""Typed errors for malformed HLO. Every message says where: file (if known), line and column."""

from __future__ import annotations


class HloError(ValueError):
    """Base class of every error hloenv raises about a user's HLO."""


class HloParseError(HloError):
    """The text is not well-formed HLO.

    Attributes:
        line: 1-based line number, or 0 when unknown.
        column: 1-based column, or 0 when unknown.
        source: the file name, when parsing a file.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0, source: str | None = None):
        self.reason = message
        self.line = line
        self.column = column
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [str(self.source)] if self.source else []
        if self.line:
            parts.append(f"line {self.line}" + (f", col {self.column}" if self.column else ""))
        parts.append(self.reason)
        return ": ".join(parts)

    def with_source(self, source: str) -> "HloParseError":
        return type(self)(self.reason, self.line, self.column, source)


class HloVerifyError(HloParseError):
    """The text parses but is not a valid HLO module (shapes, operand counts, signatures)."""
