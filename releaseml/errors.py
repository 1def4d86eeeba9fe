"""The one exception type for mistakes a user can fix.

Anything raised as `UserError` is shown as its message alone (no traceback),
both on the command line and in SageMaker's FailureReason.
"""


class UserError(Exception):
    """A problem with the user's input (config, data, request), with how to fix it."""


class BadValue(UserError):
    """A value in the data that cannot be used, with where it is (1-based data row, column name)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.row = row
        self.column = column
