"""His rules for her own time: whether she may message first, his quiet hours and time
zone, how many messages a day, and how much model time she may spend. Kept per person, so
no one's rules touch another's; what he never set is the default in ``life.toml``.

Why the day and the quiet hours are read in his zone and not the machine's: "not at
night" means his night, and on ``os1 serve`` people live in many zones.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from os1.data import read_toml
from os1.errors import InputError
from os1.storage.db import Database

MAX_CAP = 24
MAX_BUDGET_MINUTES = 600.0
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@cache
def life_config() -> dict[str, Any]:
    return read_toml("life.toml")


@dataclass(frozen=True)
class LifeRules:
    reach_out: bool = True
    quiet_from: str = "22:00"
    quiet_until: str = "08:00"
    daily_cap: int = 2
    budget_minutes: float = 5.0
    time_zone: str = ""
    paused: bool = False

    @classmethod
    def defaults(cls) -> LifeRules:
        return checked(cls(**life_config()["rules"]))

    def zone(self) -> tzinfo:
        """His zone: the named one, else this machine's."""
        if self.time_zone:
            return ZoneInfo(self.time_zone)
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local

    def is_quiet(self, at: float) -> bool:
        """Whether ``at`` falls in his quiet hours (which may run past midnight)."""
        now = datetime.fromtimestamp(at, self.zone()).time()
        start, end = clock_time(self.quiet_from), clock_time(self.quiet_until)
        if start == end:
            return False
        return start <= now < end if start < end else now >= start or now < end

    def day_start(self, at: float) -> float:
        """Midnight, his time, of the day ``at`` falls in."""
        local = datetime.fromtimestamp(at, self.zone())
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def quiet_over(self, at: float) -> float:
        """The first moment at or after ``at`` outside his quiet hours."""
        if not self.is_quiet(at):
            return at
        local = datetime.fromtimestamp(at, self.zone())
        end = datetime.combine(local.date(), clock_time(self.quiet_until), local.tzinfo)
        if end <= local:
            end += timedelta(days=1)
        return end.timestamp()


def clock_time(text: str) -> time:
    found = _CLOCK.fullmatch(text.strip())
    if found is None:
        raise InputError(f"{text!r} is not a time of day.", "Write it as HH:MM, e.g. 22:00.")
    return time(int(found.group(1)), int(found.group(2)))


def checked(rules: LifeRules) -> LifeRules:
    """``rules`` with its times written HH:MM; InputError naming what is wrong."""
    quiet_from = clock_time(rules.quiet_from).strftime("%H:%M")
    quiet_until = clock_time(rules.quiet_until).strftime("%H:%M")
    if not 0 <= rules.daily_cap <= MAX_CAP:
        raise InputError(f"A daily cap of {rules.daily_cap} is out of range.",
                         f"Give 0 (none) to {MAX_CAP}.")
    if not 0 <= rules.budget_minutes <= MAX_BUDGET_MINUTES:
        raise InputError(f"A budget of {rules.budget_minutes} minutes a day is out of range.",
                         f"Give 0 (none) to {MAX_BUDGET_MINUTES:g}.")
    if rules.time_zone:
        try:
            ZoneInfo(rules.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"{rules.time_zone!r} is not a time zone I know.",
                             "Use an IANA name, e.g. Europe/Lisbon or America/New_York.") from exc
    return replace(rules, quiet_from=quiet_from, quiet_until=quiet_until)


class LifeRulesStore:
    """One person's rules; the defaults until he changes one."""

    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def get(self) -> LifeRules:
        row = self._db.execute("SELECT rules FROM life_rules WHERE user_id = ?",
                               (self.user_id,)).fetchone()
        defaults = LifeRules.defaults()
        if row is None:
            return defaults
        saved = json.loads(str(row[0]))
        known = {f.name for f in fields(LifeRules)}
        return replace(defaults, **{k: v for k, v in saved.items() if k in known})

    def save(self, rules: LifeRules, at: float) -> LifeRules:
        rules = checked(rules)
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO life_rules (user_id, rules, updated_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (user_id) DO UPDATE SET rules = excluded.rules,"
                       " updated_at = excluded.updated_at",
                       (self.user_id, json.dumps(asdict(rules)), at))
        return rules
