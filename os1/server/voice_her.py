"""Her, as a voice connection on a server reaches her: only for a live login within its
request budget, through the same turn queue as typed messages, with the person's own
companion on a free model worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from os1.errors import OS1Error
from os1.server.accounts import Account, AuthError
from os1.server.gate import Busy
from os1.server.minds import Minds
from os1.server.sockets import Gone
from os1.voice.events import Done
from os1.voice.speaking import Replier, in_thread

if TYPE_CHECKING:
    from os1.server.server_state import ServerState

Refuse = Callable[[OS1Error], Awaitable[None]]

log = logging.getLogger(__name__)


class ServerHer:
    """``refuse`` tells the client why not (and, for a login that is gone, closes)."""

    def __init__(self, state: ServerState, account: Account, refuse: Refuse) -> None:
        self.state = state
        self.account = account
        self._refuse = refuse

    async def welcome(self) -> bool:
        """Before anything costly (Whisper on an utterance, her voice for a say): still
        signed in, and within the request budget. A revoked token ends the connection
        (4401, Gone) at once, not after its next utterance has been transcribed; past the
        budget the client is told ``busy`` and False."""
        try:
            await asyncio.to_thread(self.state.accounts.still_signed_in, self.account)
        except AuthError as error:
            await self._refuse(error)
            raise Gone() from error
        try:
            self.state.limiter.check(self.account.user_id)
        except Busy as error:
            await self._refuse(error)
            return False
        return True

    async def anticipate(self, heard_so_far: str) -> None:
        """Her prompt evaluated ahead, only when the model is free this moment and a turn
        that comes meanwhile may wait behind it: a head start never makes anyone busy
        (except this person's own typed message at that moment, told to resend)."""
        minds, gate = self.state.minds, self.state.gate.status()
        if minds is None or getattr(minds.model, "prefill", None) is None \
                or gate.running or gate.waiting or not gate.max_waiting:
            return
        try:
            minds = self.state.ready_minds()
            async with self.state.gate.turn(self.account.user_id):
                await in_thread(self._prefill, minds, heard_so_far)
        except OS1Error:
            return  # only a head start: the turn itself reports what is wrong
        except Exception:  # never the end of the conversation either
            log.exception("evaluating her prompt ahead failed")

    def _prefill(self, minds: Minds, heard_so_far: str) -> None:
        with minds.companion(self.account) as companion:
            companion.anticipate(heard_so_far, spoken=True)

    async def answer(self, work: Callable[[Replier], Done]) -> Done:
        """Logged out since they spoke: AuthError; she is loading or the queue is full:
        Busy. The request budget was spent as they began to speak."""
        await asyncio.to_thread(self.state.accounts.still_signed_in, self.account)
        minds = self.state.ready_minds()
        async with self.state.gate.turn(self.account.user_id):
            return await in_thread(self._work, minds, work)

    def _work(self, minds: Minds, work: Callable[[Replier], Done]) -> Done:
        with minds.companion(self.account) as companion:
            return work(companion)
