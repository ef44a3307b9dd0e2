"""Problems found in data files, reported as ``FILE:LINE: message``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class DataProblem:
    """One problem in a data file. ``line`` is 1-based; 0 means "the whole file/dir".

    ``severity`` is ``"error"`` (the data dir cannot be used) or ``"warning"``
    (it can, but something looks wrong). :class:`DataError` only carries errors.
    """

    file: str
    line: int
    message: str
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{where}: {prefix}{self.message}"


class DataError(Exception):
    """Raised by :func:`bot.shopdata.loader.load_shop` with every error found."""

    def __init__(self, problems: list[DataProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def display_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it lies below it, else as absolute."""
    p = Path(path)
    try:
        absolute = Path(os.path.abspath(p))
        cwd = Path(os.path.abspath(os.getcwd()))
        return absolute.relative_to(cwd).as_posix()
    except (ValueError, OSError):
        try:
            return Path(os.path.abspath(p)).as_posix()
        except OSError:
            return p.as_posix()


def sort_problems(problems: list[DataProblem]) -> list[DataProblem]:
    """Files in the order they were first reported; within a file, by line."""
    order: dict[str, int] = {}
    for problem in problems:
        order.setdefault(problem.file, len(order))
    return sorted(problems, key=lambda p: (order[p.file], p.line))


class Problems:
    """Collects problems for one file (``file`` is the display path)."""

    def __init__(self, file: str, sink: list[DataProblem]):
        self.file = file
        self.sink = sink

    def error(self, line: int, message: str) -> None:
        self.sink.append(DataProblem(self.file, line, message))

    def warning(self, line: int, message: str) -> None:
        self.sink.append(DataProblem(self.file, line, message, WARNING))
