"""The CalDAV edge: ``CalendarServer`` is what sync and the desk need from a server (the
events in a window, and creating one); ``CalDavServer`` speaks CalDAV through the caldav
library with basic auth. Every failure becomes a ``CalendarError`` that says what went
wrong and what to check; the password is never in one.

Plain http is refused except on loopback: basic auth would send the password in clear.
"""

from __future__ import annotations

import ssl
from datetime import datetime, tzinfo
from typing import Any, Protocol
from urllib.parse import urlsplit

from os1.calendar.ics import Event, parse_events, to_ics
from os1.errors import CalendarError

TIMEOUT_S = 60
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class CalendarServer(Protocol):
    def events(self, start: datetime, end: datetime) -> list[Event]: ...
    def create(self, event: Event) -> None: ...
    def close(self) -> None: ...


class CalDavServer:
    """The first calendar of the account at ``url`` (or the one whose name is
    ``calendar``); ``url`` may be the server, the user's home or the calendar itself."""

    def __init__(self, url: str, username: str, password: str, calendar: str = "",
                 tz: tzinfo | None = None, ca_file: str | None = None) -> None:
        import caldav

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CalendarError(f"{url!r} is not a calendar server address.",
                                "Give its https:// address.")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise CalendarError(f"{parts.hostname} is reached over plain http, which would "
                                "send your password unencrypted.", "Use its https:// address.")
        self.url, self.host, self.tz = url, parts.hostname, tz
        client: Any = caldav.DAVClient  # its __init__ is typed loosely
        self._client = client(url=url, username=username, password=password,
                              timeout=TIMEOUT_S, ssl_verify_cert=ca_file or True)
        self._calendar = self._call(self._find, calendar)

    def events(self, start: datetime, end: datetime) -> list[Event]:
        found = self._call(self._calendar.search, start=start, end=end, event=True)
        events: list[Event] = []
        for item in found:
            data = item.data
            events += parse_events(data.encode() if isinstance(data, str) else data,
                                   start, end, self.tz)
        return sorted(events, key=lambda e: (e.start, e.title))

    def create(self, event: Event) -> None:
        self._call(self._calendar.save_event, to_ics(event).decode())

    def close(self) -> None:
        session = getattr(self._client, "session", None)
        if session is not None:
            session.close()

    def _find(self, name: str) -> Any:
        calendars = self._client.principal().calendars()
        if not calendars:
            raise CalendarError(f"{self.host} has no calendar for this account.",
                                "Create one in your calendar program first.")
        if not name:
            return calendars[0]
        for calendar in calendars:
            if calendar.get_display_name() == name:
                return calendar
        raise CalendarError(f"{self.host} has no calendar called {name!r}.")

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        from caldav.lib import error

        try:
            return method(*args, **kwargs)
        except CalendarError:
            raise
        except error.AuthorizationError as exc:
            raise CalendarError(f"{self.host} refused the login.",
                                "Check the username and password (os1 calendar add again "
                                "replaces them); some providers want an app password.") \
                from exc
        except error.DAVError as exc:
            raise CalendarError(f"{self.host} refused a calendar request: "
                                f"{_reason(exc)}.") from exc
        except ssl.SSLError as exc:
            raise _tls_error(self.host, exc) from exc
        except OSError as exc:  # requests' errors are OSErrors
            cause = _ssl_cause(exc)
            if cause is not None:
                raise _tls_error(self.host, cause) from exc
            raise CalendarError(f"Can't reach the calendar server {self.host}: "
                                f"{_reason(exc)}.",
                                "Check the address and your network.") from exc


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None if "certificate" not in str(exc).lower() else ssl.SSLError(str(exc))


def _tls_error(host: str, exc: ssl.SSLError) -> CalendarError:
    return CalendarError(f"The secure connection to {host} failed: {_reason(exc)}.",
                         "If this is your own server with its own certificate, give its CA "
                         "file with --ca-file; otherwise someone may be in between.")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
