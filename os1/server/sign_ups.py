"""How fast accounts can be made: per client address, and by everyone together.

Why (issue 25, "cost before login"): sign-up is open to anyone who reaches the port, and
each one costs a strength check, an argon2 hash and a row that stays. A script could make
accounts as fast as the server hashes. Each address gets ``per_address`` sign-ups at once,
refilled over ``window_s``; everyone together gets ``overall`` (an attacker with many
addresses still meets that bound). Every attempt counts, a refused one too: it cost the
same, and "that username is taken" must not be a free oracle.

IPv6 addresses are counted by their /64, the block one subscriber usually holds, so
cycling through one's own addresses doesn't reset the count. The counts live in this
process only (several workers each allow their own), and no address is ever stored.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from os1.server.gate import RateLimiter

IPV6_BLOCK = 64


class SignUpLimit:
    def __init__(self, per_address: int, overall: int, window_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        minutes = window_s / 60.0
        self.per_address = RateLimiter(per_address / minutes, per_address, clock,
                                       "Too many sign-ups from your address.")
        self.overall = RateLimiter(overall / minutes, overall, clock,
                                   "Too many sign-ups on this server just now.")

    def check(self, host: str | None) -> None:
        """Count one sign-up from ``host``; Busy (429, with when to come back) past either
        bound. The address is checked first, so one flooding address spends only its own
        budget, not everyone's."""
        self.per_address.check(address_key(host))
        self.overall.check("everyone")


def address_key(host: str | None) -> str:
    """The address a sign-up is counted under: an IPv4 address as it is, an IPv6 one by
    its /64; anything else (a test client, a Unix socket) as given."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_BLOCK}", strict=False))
    return str(address)
