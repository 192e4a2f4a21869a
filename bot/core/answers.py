"""Which question an answer answers.

A person answers what they see. When a platform shows a question twice (a send Telegram
executed but answered 502 is retried) or late (WeChat resends a callback whose answer was lost,
a slow step's reply goes out later), a typed answer can arrive before the question now open was
handed to the platform: it cannot answer that question, it answers the one before (as a repeat,
or as a correction). Platforms give no delivery receipts, so what the bot knows is when it
handed each chat's latest question over (the start of the first send attempt: an attempt that
failed ambiguously may have been shown) and when each update arrived. Channels record both
here; the core's form engine (`FormEngine.early`) binds an early answer to the previous
question.

Kept per process, in memory: after a restart nothing is known and every answer counts for the
question that is open, as before. Several workers serving one person each know only what they
sent: whether a late reply is superseded is therefore also stored with the WeChat follower
(models/wechat.py asked_by) and read by whichever worker sends it, and on Telegram the worker
that answered a person leaves what it knows of the chat's question in the database
(`snapshot`, models/telegram_shown.py TelegramShown) for the next holder of the person's turn
(`restore`). A WeChat follower is routed to one worker (the proxy hashes the openid), whose
memory is then all there is to know.

Longer than 300 lines on purpose: one state per chat (`_Shown`) and its transitions, every
channel's events on it side by side.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from bot.core.messages import Reply
from bot.core.parsers import normalize

_WITHHELD = math.inf  # the chat's latest question is known not to be shown yet


@dataclass
class _Shown:
    question: str | None
    mark: float  # from when it may have been seen: a monotonic time, or a message id
    doubled: bool = False  # it may have been shown twice (a retried send)
    before_doubled: bool = False  # the question before it may have been
    awaited: bool = False  # withheld, a new question: the person is waiting for it
    # the latest reply to the chat only asked this question again (after an invalid answer,
    # /help): it was seen before that reply, whatever becomes of the reply
    reasked: bool = False
    # a retried send: it was certainly shown from this mark on, and may have been from `mark`
    # (an earlier attempt executed but unanswered); the channel may narrow that (`narrow`)
    until: float | None = None
    # a channel handed the reply asking it over (a passive reply returned, a send returned)
    # at this mark, and nothing since says it was lost: a late send of it refused meanwhile
    # does not unshow it
    handed: float | None = None
    # a late message asking it (from the outbox) began to be sent at this mark and was not
    # refused: it stays shown from then on, whatever becomes of another reply asking it (a
    # retype's answer lost: WeChat resends it)
    sent: float | None = None


class ShownQuestions:
    """From when each chat's latest question may have been seen, as a mark in the chat's
    own order: a monotonic time where that is all a channel knows (WeChat), or a message id
    where the platform numbers a chat's messages in one sequence for both sides (Telegram).
    The same question asked again (after an error, /help, a resend) keeps the mark it was
    first shown at: answers typed since then answer it."""

    LIMIT = 50_000  # chats remembered; the oldest are forgotten beyond this

    def __init__(self) -> None:
        self._at: dict[Hashable, _Shown] = {}
        self._flights: dict[Hashable, int] = {}  # sends under way per chat (`sending`)
        # (chat, step) -> (its place in the order of steps, the question its replies ask),
        # for `withheld` with a step: a reply the channel sends later by the outbox names its
        # question (`asked_by`), and a later step that asked one supersedes it (`superseded`)
        self._steps: dict[tuple[Hashable, Hashable], tuple[int, str | None]] = {}
        self._asked: dict[Hashable, int] = {}  # chat -> the latest step that asked a question
        self._order = itertools.count()

    def handed_over(
        self,
        chat: Hashable,
        question: str | None,
        at: float | None = None,
        doubled: bool = False,
        until: float | None = None,
    ) -> None:
        """Replies asking `question` (None: no form question) were handed over, to be seen
        from `at` (default: now); `doubled`: a retried send may have shown them twice;
        `until`: the retried send's mark, from which they were certainly shown (`at` is only
        the earliest an earlier, unanswered attempt may have been)."""
        known = self._at.pop(chat, None)  # re-inserted last: the dict stays in order of use
        mark = time.monotonic() if at is None else at
        if known is not None and question is not None and known.question == question:
            if known.mark != _WITHHELD:
                known.doubled = known.doubled or doubled
                known.reasked = True
                if known.handed is None:
                    known.handed = mark
                self._at[chat] = known
                return
        before = known is not None and (
            (known.doubled and known.question != question)
            or (known.before_doubled and known.question == question)  # it was withheld
        )
        self._at[chat] = _Shown(question, mark, doubled, before, until=until, handed=mark)
        if len(self._at) > self.LIMIT:
            for old in list(self._at)[: self.LIMIT // 10]:
                del self._at[old]

    def withheld(
        self,
        chat: Hashable,
        question: str | None = None,
        unseen: bool = False,
        step: Hashable | None = None,
    ) -> None:
        """The chat's latest question has not reached the person (WeChat resent the message
        it answered, or the reply waits in the outbox): typed text answers the one before.
        `question`: the one the withheld reply asks, when known; `unseen`: the person has
        not seen it yet (the answer that carried it was lost); `step`: the message whose step
        gave the reply (its question is kept for `asked_by`). A question that was shown and
        is only asked again (after an invalid answer) stays shown from its first showing:
        withholding, losing or a refused send of the reply that asks it again does not make
        it unseen."""
        if step is not None:
            self._steps[(chat, step)] = (place := next(self._order), question)
            if question is not None:
                self._asked.pop(chat, None)  # re-inserted last: the dict stays in order of use
                self._asked[chat] = place
            if len(self._steps) > self.LIMIT:
                for old in list(self._steps)[: self.LIMIT // 10]:
                    del self._steps[old]
            if len(self._asked) > self.LIMIT:
                for gone in list(self._asked)[: self.LIMIT // 10]:
                    del self._asked[gone]
        known = self._at.pop(chat, None)
        if known is not None:
            known.handed = None  # the latest reply has not been handed over (or was lost)
        before = known.question if known else None
        new = question is not None and question != before
        if known is not None and known.mark != _WITHHELD and before is not None and not new:
            # the reply asks again a question that was shown (`question` given), or the reply
            # whose answer was lost did (`unseen`): the person has seen the question since it
            # was first shown, and what they type answers it (not the one before)
            if question is not None or (unseen and known.reasked):
                known.reasked = True
                self._at[chat] = known
                return
        # a question shown twice (a late copy of it) before this new one: the first answer
        # since may be a second answer to it (`after_doubled`)
        doubled = new and known is not None and known.doubled
        # the same question, shown by a late message: it stays shown from then on
        sent = None if new or known is None else known.sent
        self._at[chat] = _Shown(
            question if new else before,
            _WITHHELD if sent is None else sent,
            before_doubled=doubled,
            awaited=new or unseen,
            sent=sent,
        )

    def handed_if_withheld(self, chat: Hashable, at: float | None = None) -> None:
        """A withheld question was delivered after all (by the outbox, or a resend's answer
        returned; `at`: from when the person may see it)."""
        known = self._at.get(chat)
        if known is None:
            return
        mark = time.monotonic() if at is None else at
        if known.mark == _WITHHELD:
            known.mark = mark
        if known.handed is None:
            known.handed = mark

    def snapshot(self, chat: Hashable) -> dict[str, object] | None:
        """What is known of the chat's latest question, as plain JSON values (several
        workers share it: see models/telegram_shown.py TelegramShown); None: nothing."""
        known = self._at.get(chat)
        if known is None:
            return None
        data = dataclasses.asdict(known)
        if known.mark == _WITHHELD:
            data["mark"] = None  # JSON has no infinity
        return data

    def forget(self, chat: Hashable) -> None:
        """Nothing is known of the chat's question (as after a restart)."""
        self._at.pop(chat, None)

    def restore(self, chat: Hashable, data: dict[str, Any]) -> None:
        """Takes what another worker knew of the chat's latest question (`snapshot`): it
        sent the chat's latest replies, so it knows better than this worker's memory."""
        fields = {f.name for f in dataclasses.fields(_Shown)}
        known = _Shown(**{k: v for k, v in data.items() if k in fields})
        if known.mark is None:
            known.mark = _WITHHELD
        self._at.pop(chat, None)  # re-inserted last: the dict stays in order of use
        self._at[chat] = known

    def asked_by(self, chat: Hashable, step: Hashable) -> str | None:
        """The question the replies of `step` (a message of the chat, see `withheld`) ask;
        None: none, or not known (another process handled it, or this one restarted)."""
        found = self._steps.get((chat, step))
        return None if found is None else found[1]

    def superseded(
        self, chat: Hashable, question: str | None, step: Hashable | None = None
    ) -> bool:
        """Whether a late message asking `question` (the reply to `step`, sent by the outbox)
        would show a question that is not the one to answer: a later step of the chat asked
        a question (the one open: that step's reply carries it, passive or late), or, the
        step not known, the chat's latest question is another one. Such a message is not sent:
        a person answers what they see, and an answer to a question that is not open would be
        stored under the one that is. Unknown (no question, nothing known): False."""
        if question is None:
            return False
        found = self._steps.get((chat, step)) if step is not None else None
        if found is not None:
            return self._asked.get(chat, -1) > found[0]
        known = self._at.get(chat)
        return known is not None and known.question is not None and known.question != question

    def sending(self, chat: Hashable, at: float, question: str | None = None) -> None:
        """A message to the chat began to be sent at `at` (from the outbox: a late reply). A
        withheld question may be seen from then on, before the call returns, and even if it
        fails (the platform may have executed it); until the outcome is known, `settled`
        waits for it. A new question the person has been waiting for: what they type as it
        arrives may be their last answer again (typed once more as nothing came), see
        `after_doubled` (not for the same question asked again: its answer is taken).
        `question`: the one the message asks, when known: a message asking another one than
        the withheld question (an earlier question's late reply sent again after a failure)
        does not show the withheld question."""
        known = self._at.get(chat)
        other = question is not None and known is not None and question != known.question
        if known is not None and known.mark == _WITHHELD and not other:
            known.mark = at
            known.before_doubled = known.before_doubled or known.awaited
        elif known is not None and question is not None and question == known.question:
            known.doubled = True  # shown already: this shows it again
        if known is not None and question is not None and question == known.question:
            known.sent = at if known.sent is None else known.sent
        self._flights[chat] = self._flights.get(chat, 0) + 1

    def sending_ended(self, chat: Hashable, at: float, outcome: str) -> None:
        """How the send begun at `at` ended: "shown"; "refused" (the platform said it did not
        take it: a question it counted as shown is withheld again); "unknown" (an error after
        which it may or may not have been shown: it counts as shown)."""
        left = self._flights.pop(chat, 0) - 1
        if left > 0:
            self._flights[chat] = left
        known = self._at.get(chat)
        if known is not None and outcome == "refused" and known.sent == at:
            known.sent = None
        if known is None or known.mark != at:
            return  # not the send that made the chat's question count as shown
        if outcome == "refused":
            # unseen, unless a reply asking it again was handed over while this send was
            # under way (a retype's passive answer): shown from then on
            known.mark = _WITHHELD if known.handed is None else known.handed

    async def settled(self, chat: Hashable, limit: float) -> None:
        """Waits (at most `limit` seconds) until no message to the chat is being sent: what
        an answer that arrived meanwhile answers depends on whether it was shown."""
        deadline = time.monotonic() + limit
        while chat in self._flights and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def uncertain(self, chat: Hashable) -> tuple[float, float] | None:
        """(from, until) when the chat's latest question was sent again after an attempt
        that may have been executed: it may have been seen from `from`, and was from `until`."""
        known = self._at.get(chat)
        if known is None or known.until is None or known.mark == _WITHHELD:
            return None
        return known.mark, known.until

    def narrow(self, chat: Hashable, earliest: float) -> None:
        """The channel learnt that no earlier attempt of the latest question's send can have
        been shown before `earliest` (every position in the chat's order before it is taken
        by a message known to be another one)."""
        known = self._at.get(chat)
        if known is not None and known.until is not None and known.mark < earliest:
            known.mark = min(earliest, known.until)

    def early(self, chat: Hashable, arrived: float | None) -> bool:
        """Whether an update that came at `arrived` (a mark in the chat's order) came before
        the chat's latest question may have been seen; unknown: False."""
        if arrived is None:
            return False
        known = self._at.get(chat)
        return known is not None and arrived < known.mark

    def after_doubled(self, chat: Hashable) -> bool:
        """Whether the question before the open one may have been shown twice, so that the
        first answer since may be a second answer to it; asked once per question."""
        known = self._at.get(chat)
        if known is None or not known.before_doubled:
            return False
        known.before_doubled = False
        return True


def question_of(replies: list[Reply]) -> str | None:
    """The question a step's replies ask: the last one that asks one."""
    for reply in reversed(replies):
        if reply.question is not None:
            return reply.question
    return None


def typed_action(text: str | None, shown: list[list[str]], numbered: bool) -> str | None:
    """The action of a button typed instead of pressed: its label, or its number when the
    buttons were numbered choices. `shown`: [label, stamped data] pairs as stored."""
    if not text:
        return None
    typed = normalize(text).casefold()
    for label, data in shown:
        if typed and typed == normalize(label.removeprefix("✅ ")).casefold():
            return data.partition(":")[2]
    if numbered and typed.isdigit() and 1 <= int(typed) <= len(shown):
        return shown[int(typed) - 1][1].partition(":")[2]
    return None
