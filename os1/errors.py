"""One exception tree for os1; every message is safe and useful to show a user.

    OS1Error                      anything os1 itself reports
    ├── ConfigError               a setting is missing, unknown or malformed
    ├── ModelError                the model can't be used
    │   ├── ModelNotFound         the --model spec names nothing that exists
    │   ├── ModelFileError        a model file is missing, partial, corrupt or unloadable
    │   └── BackendError          a model server misbehaves
    │       ├── BackendUnavailable    can't connect
    │       └── BackendTimeout        connected, but no answer in time
    ├── StorageError              the database can't be opened or written
    │   ├── DataDirBusy           another process holds the data dir exclusively
    │   └── DiskFull              the disk (or the database server's) has no room left
    ├── MailError                 a mail server can't be reached, refuses us or misbehaves
    ├── CalendarError             a calendar server or .ics file can't be used
    └── InputError                what the user typed can't be used as is
        ├── EmptyMessage
        └── MessageTooLong

Boundary code translates third-party exceptions into these with ``raise ... from exc``
so the CLI can print ``str(error)`` and a hint, never a traceback.
"""

from __future__ import annotations


class OS1Error(Exception):
    """Base class: ``str(err)`` says what happened, ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(OS1Error):
    pass


class ModelError(OS1Error):
    pass


class ModelNotFound(ModelError):
    pass


class ModelFileError(ModelError):
    pass


class BackendError(ModelError):
    pass


class BackendUnavailable(BackendError):
    pass


class BackendTimeout(BackendError):
    pass


class StorageError(OS1Error):
    pass


class DataDirBusy(StorageError):
    pass


class DiskFull(StorageError):
    """Nothing of the write that hit it was kept (the transaction is rolled back);
    everything stored before is intact, and writing works again once there is room.
    ``for_clients``: what a server tells a client, who can't free its disk and has no
    business knowing its paths."""

    for_clients = ("The server's disk is full, so nothing of this could be kept.",
                   "Try again later: everything stored before is intact.")


class MailError(OS1Error):
    pass


class CalendarError(OS1Error):
    pass


class InputError(OS1Error):
    pass


class EmptyMessage(InputError):
    pass


class MessageTooLong(InputError):
    pass
