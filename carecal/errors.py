"""Errors the library raises; the CLI turns them into a message on stderr and an exit code.

Messages must never contain health data (care grade, dementia, insurance number, date of
birth): they may leave the coordinator's machine in a screenshot or a support request.
"""


class CarecalError(Exception):
    """A user-facing error: bad input, a missing record, a conflict."""

    exit_code = 1


class NotFound(CarecalError):
    exit_code = 3


class Conflict(CarecalError):
    """Someone else changed the data meanwhile (optimistic locking), or a rule forbids it."""

    exit_code = 4


class InputError(CarecalError):
    """Invalid input; `problems` lists every problem found, each naming where it is."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        return "\n".join([self.args[0], *(f"  - {p}" for p in self.problems)])


class RuleBroken(Conflict):
    """The database refused a change that breaks a rule it guards (a trigger of
    carecal.lifecycle), e.g. changing a visit that is already billed."""


class DatabaseBusy(Conflict):
    """Another process kept the database locked for writing longer than we wait."""


class DatabaseUnavailable(CarecalError):
    """The database URL is wrong, or the database cannot be reached."""

    exit_code = 5
