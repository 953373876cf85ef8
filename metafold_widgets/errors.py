"""Every exception the product raises, and the one map from an exception to the CLI's exit status.

Every error a researcher can cause (a broken template, invalid answers, an unsafe
folder name, an existing destination) derives from :class:`UserError`; the CLI turns
those into a clear message and exit status 2. A remote system's failure, a full disk or
anything else exits 1 (:func:`exit_code`).
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Iterable


class MetafoldError(Exception):
    """Base class of every exception raised on purpose by metafold-widgets."""


class UserError(MetafoldError):
    """A problem in the user's input: a message is enough, no traceback."""


@dataclass(frozen=True)
class TemplateProblem:
    """One problem in a template file, located as precisely as the source allows."""

    message: str
    source: str = "<template>"
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        subject = f" field '{self.field}':" if self.field else ""
        return f"{where}:{subject} {self.message}"


class TemplateError(UserError):
    """A template could not be loaded; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[TemplateProblem]):
        self.problems: list[TemplateProblem] = list(problems)
        count = len(self.problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"template has {heading}:\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class FieldError:
    """One answer that does not satisfy its field, phrased for a researcher."""

    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label} ({self.key}): {self.message}"


class AnswersError(UserError):
    """Answers were rejected; ``errors`` holds one entry per failing field."""

    def __init__(self, errors: Iterable[FieldError], source: str | None = None):
        self.errors: list[FieldError] = list(errors)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.errors)
        heading = "1 invalid answer" if count == 1 else f"{count} invalid answers"
        super().__init__(f"{heading}{where}:\n" + "\n".join(f"  {e}" for e in self.errors))


class UnsafeNameError(UserError):
    """A folder or project name cannot be used safely on every operating system."""


class ProjectExistsError(UserError):
    """The destination folder already exists; it is never touched or merged."""


class InputFileError(UserError):
    """A file given by the user is missing, unreadable or malformed."""


class IntegrationError(MetafoldError):
    """A remote system (elabFTW, OMERO) refused or failed a request; ``system`` names it."""

    system = "integration"

    def __init__(self, message: str, status: int | None = None, server_message: str | None = None):
        self.status = status
        self.server_message = server_message
        super().__init__(message)


class ElabftwError(IntegrationError):
    """elabFTW answered with an error, or could not be reached; the message quotes the server."""

    system = "elabftw"


class OmeroError(IntegrationError):
    """OMERO refused a request or could not be reached."""

    system = "omero"


# --- exit statuses of the ``metafold`` command line (the README's promise) ------------------

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_FAILED = 1
"""Something went wrong that is not the user's input: a system failed, the disk is full, a bug."""
EXIT_USER = 2
"""A problem the user can fix in their input: template, answers, paths, settings."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C (128 + SIGINT, as shells report it)."""


def exit_code(exc: BaseException) -> int:
    """The exit status for ``exc``: 2 for a :class:`UserError`, 130 for Ctrl-C, 1 for anything else.

    A full disk is the machine's state, not the user's input: it is no UserError and exits 1.
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_USER if isinstance(exc, UserError) else EXIT_FAILED


class ConfigError(UserError):
    """Settings are missing, malformed or unsafe; the message says which and how to fix it."""


class InsecureConnectionWarning(UserWarning):
    """TLS verification is off or the address is plain http: traffic can be read or altered."""


class ImporterMissingError(OmeroError):
    """The OMERO importer cannot run on this machine; the message says what is missing and how to fix it."""


class PackageExistsError(UserError):
    """The package folder already exists; it is never overwritten or merged."""


class ArchiveExistsError(UserError):
    """The archive (or its checksum file) already exists; it is never overwritten."""


class FileProblem(UserError):
    """A file or folder that cannot be packaged, hashed or archived as it is; ``path`` names it.

    A full disk is not one of these (the user's files are fine): see :class:`DiskFullError`.
    """

    def __init__(self, path: str | os.PathLike[str], message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class FileChangedError(FileProblem):
    """A file changed (size, modification time or content) while it was being read."""


class UnreadableFileError(FileProblem):
    """A file cannot be read: no permission, vanished, or not a regular file."""


class UnsafeSymlinkError(FileProblem):
    """A symbolic link points outside the folder being packaged."""


class DiskFullError(MetafoldError, OSError):
    """The target disk (or the user's quota) is full; ``path`` names what was being written.

    Not the user's input at fault, so not a UserError (the command line exits 1). Still an
    OSError, so code that handles the machine's failures (disk, permissions) handles it too.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        super().__init__(errno.ENOSPC, f"{self.path}: the disk is full (or the quota is used up); free some space "
                                       "and try again. Nothing was left under the final name.")

    def __str__(self) -> str:
        return str(self.strerror)
