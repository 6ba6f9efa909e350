"""Errors a user can cause. Each carries a one-line message that names the problem and how to fix it."""


class NnexamError(Exception):
    """Base class of every error caused by user input; the CLI prints it as one line, exit status 2."""


class ParamError(NnexamError, ValueError):
    """A problem's parameters are invalid. The message names the field and what was expected."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class UnknownKindError(NnexamError, ValueError):
    """The problem kind is not registered."""
