"""The exceptions for mistakes a user can fix, and the exit codes they end in.

    UserError            a problem with the input (config, data, flags, AWS set-up), with how to fix it:
    │                    shown as its message alone, never a traceback; a task exits 1, `train` writes
    │                    it to /opt/ml/output/failure (SageMaker's FailureReason) and exits 1
    ├── BadValue         a value in the data that cannot be used, with its row and column
    │   └── CsvError     (csvrows) CSV text that breaks the row rule, with its row and line
    ├── RequestError     (serving.codecs) a request the server cannot use: its HTTP status and details
    └── StillRunning     a wait that ended (timeout, Ctrl-C) while the AWS job goes on: exit 3

Anything else that escapes is releaseml's own bug: `train` exits 2 and keeps the traceback in the
log; the server answers 500 and logs it.
"""

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2
EXIT_STILL_RUNNING = 3


class UserError(Exception):
    """A problem with the user's input (config, data, request), with how to fix it."""

    exit_code = EXIT_USER_ERROR


class BadValue(UserError):
    """A value in the data that cannot be used, with where it is (1-based data row, column name)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.row = row
        self.column = column


class StillRunning(UserError):
    """The wait ended (timeout or Ctrl-C) but the job goes on; the message says how to re-attach."""

    exit_code = EXIT_STILL_RUNNING
