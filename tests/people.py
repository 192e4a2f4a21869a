"""Simulated people for the fault tests and benchmarks/faults.py. Each registers as a streamer
(tests.test_telegram_faults.varied_streamer: every figure differs from its neighbours', so a
value stored one question off shows), answers the question they see as they see it, and keeps
what they meant for each question, to be compared with the database afterwards.

A question is recognised by the end of the message that shows it (its last line of text and
its buttons), so the same question asked again after a note ("not recorded, please answer
below", a correction) is answered again with the value last given to it, and a new question
gets the next line of the script. Messages and what was typed are logged for a failure's
message.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

from tests.catalog import said
from tests.fake_telegram import FakeTelegram, Sent
from tests.fake_wechat import FakeWeChat, WeChatServer, message_xml

# The script lines typed as values (account, phone, the figures), and the field each fills;
# the other lines are choices and buttons, the same whatever the person means.
TYPED_VALUES = {
    7: "account",
    9: "phone",
    10: "followers",
    11: "likes_received",
    13: "monthly_live_days",
    15: "cumulative_viewers",
    16: "peak_concurrent",
    17: "cumulative_orders",
}


ACCOUNT_LINE = 7  # any text is an account name
TYPO = "很多"  # what a slip types instead of a figure: no number


def other_value(index: int, line: str) -> str | None:
    """A different valid answer to the same question, for the values typed."""
    if index not in TYPED_VALUES:
        return None
    if line.isdigit() and len(line) == 11:  # a phone number
        return line[:-1] + str((int(line[-1]) + 1) % 10)
    if line.isdigit():
        return str(int(line) + 1)
    return line + "b"  # the account name


def expected(lines: list[str], final: dict[int, str]) -> dict[str, object]:
    """What the database must hold for a varied_streamer script, with the values the person
    last meant (`final`: script line -> value) in place of the script's."""
    meant = {i: final.get(i, line) for i, line in enumerate(lines)}
    out: dict[str, object] = {}
    for index, name in TYPED_VALUES.items():
        out[name] = meant[index] if name in ("account", "phone") else int(meant[index])
    out["monthly_live_hours"] = Decimal(meant[14])
    return out


def question_key(text: str) -> str:
    """The question a message asks: its last line of text and its buttons' line."""
    return "\n".join(text.rstrip().splitlines()[-2:])


class _Script:
    """What a person answered and means: the script, the value last given to each line, the
    questions seen (by their key) and which line each took."""

    def __init__(
        self, lines: list[str], name: str, typos: float = 0.0, rng: random.Random | None = None
    ) -> None:
        self.lines, self.name = lines, name
        # the share of figures first typed as something that is no number (a slip); the
        # question asked again then gets the value meant
        self.typos, self.rng = typos, rng or random.Random(name)
        self.mistyped = 0
        self.final: dict[int, str] = {}
        self.asked: dict[str, int] = {}
        self.next = 1  # line 0 starts the conversation
        self.log: list[str] = []
        self.done = False

    def answer_for(self, key: str) -> tuple[int, str] | None:
        """The line and value for the question `key`: the value last given to it, or the
        script's next line for a new question (None: the script is used up)."""
        if key in self.asked:
            line = self.asked[key]
            return line, self.final[line]
        if self.next >= len(self.lines):
            return None
        line, self.next = self.next, self.next + 1
        self.asked[key] = line
        self.final[line] = self.lines[line]
        if self.typos and line in TYPED_VALUES and line != ACCOUNT_LINE:
            if self.rng.random() < self.typos:
                self.mistyped += 1
                return line, TYPO
        return line, self.lines[line]

    def transcript(self) -> str:
        return f"{self.name}:\n" + "\n".join(self.log)


# ----- Telegram ---------------------------------------------------------------------------------
class TelegramPerson:
    """A person in a private chat who answers every question they see the moment it arrives
    (typing the value, or a choice's label). A copy of the question just answered (a
    doubled delivery) gets the same value again, or a different one for the script lines in
    `change_on_copy`; a question asked again after a note gets the value last given to it.

    Driven by the fake's `on_sent` (see TelegramPeople), in the fake's loop: no thread and no
    polling, so fifty of them cost nothing."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        lines: list[str],
        change_on_copy: Iterable[int] = (),
        typos: float = 0.0,
    ) -> None:
        self.fake = fake
        self.user = fake.user(user_id)
        self.script = _Script(lines, self.user.name, typos, random.Random(user_id))
        self.change = set(change_on_copy)
        self.copies = 0  # copies of a question seen (doubled deliveries)
        self.previous = ""  # the text of the message before (the contact hint aside)
        self.last_line: int | None = None

    def start(self) -> None:
        self._type(self.script.lines[0])

    def _type(self, value: str, note: str = "") -> None:
        self.user.text(value)
        self.script.log.append(f"> {note}{value}")

    def on_message(self, message: Sent) -> None:
        """Called (in the fake's loop) for each message the bot sends this person."""
        script = self.script
        script.log.append("< " + (message.text.splitlines() or [""])[0][:50])
        if said(message.text, "streamer.submitted"):
            script.done = True
            return
        if _hint(message):
            return  # beside the phone question, which came before it
        copy, self.previous = self.previous == message.text, message.text
        if script.done or not message.buttons():
            return  # a note, an error: the question follows
        key = question_key(message.text)
        if copy and self.last_line is not None and script.asked.get(key) == self.last_line:
            self.copies += 1
            line = self.last_line
            if line in self.change:
                other = other_value(line, script.lines[line])
                if other is not None:
                    script.final[line] = other
            self._type(script.final[line], "(copy) ")
            return
        found = script.answer_for(key)
        if found is None:
            return
        self.last_line, value = found
        self._type(value)


class TelegramPeople:
    """Several TelegramPersons on one fake: routes each sent message to its person."""

    def __init__(self, fake: FakeTelegram, people: list[TelegramPerson]) -> None:
        self.fake = fake
        self.by_chat = {p.user.id: p for p in people}
        self.people = people
        fake.on_sent = self._sent

    def _sent(self, message: Sent) -> None:
        person = self.by_chat.get(message.chat_id)
        if person is not None:
            person.on_message(message)

    def start(self) -> None:
        for person in self.people:
            person.start()

    def wait(self, timeout: float) -> list[TelegramPerson]:
        """Waits until everybody has submitted or `timeout` seconds have passed; returns who
        has not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.script.done for p in self.people):
                return []
            time.sleep(0.05)
        return [p for p in self.people if not p.script.done]


def repeated_in_a_row(messages: list[Sent]) -> tuple[int, int]:
    """Questions shown twice in a row: (by a doubled delivery: the first copy's call was
    executed but answered with an error, so it was sent again; for another reason, with
    nothing said between them)."""
    doubled = other = 0
    shown = [m for m in messages if not _hint(m)]
    for a, b in itertools.pairwise(shown):
        if a.text == b.text and a.buttons() and b.buttons():
            if a.answer_lost:
                doubled += 1
            else:
                other += 1
    return doubled, other


def _hint(message: Sent) -> bool:
    return message.markup is not None and "keyboard" in message.markup  # the contact hint


# ----- WeChat ----------------------------------------------------------------------------------
class WeChatPerson:
    """A follower on WeChat: answers the question in the latest message they see (the passive
    reply, or a customer-service message), once. What they type reaches us through a
    simulated WeChat server (`server`) that loses the answer of a delivery with probability
    `loss` and then resends the same message after `resend_after` seconds, `tries` times in
    all (WeChat: 3, 5 s apart). When nothing at all comes within `retype_after` seconds (a
    person: about 20 s), they type their answer again.

    `lose_all`: the share of messages whose every delivery's answer is lost (WeChat gives up
    after the last try; the bot then sends the reply as a customer-service message).

    `blackout`: script lines whose every delivery's answer is lost while WeChat's API refuses
    customer-service messages to this follower ("system busy"), so nothing comes; they then
    retype, with a different valid value when `change_on_retype` (they meant another figure).
    A message that repeats one seen before (the same text, or the end of a message that had a
    note before it) is a copy: not answered again."""

    def __init__(
        self,
        server: WeChatServer,
        fake: FakeWeChat,
        openid: str,
        lines: list[str],
        rng: random.Random,
        loss: float = 0.0,
        tries: int = 3,
        resend_after: float = 0.02,
        retype_after: float = 3.0,
        blackout: Iterable[int] = (),
        change_on_retype: bool = False,
        patience: float = 120.0,
        lose_all: float = 0.0,
        typos: float = 0.0,
        answer_copies: bool = False,
        change_on_copy: bool = False,
    ) -> None:
        self.server, self.fake, self.openid = server, fake, openid
        # a doubled delivery (a customer-service message WeChat executed and answered 502,
        # sent again) of the question just answered is answered again: the same value, or
        # with `change_on_copy` another valid one (they meant another figure)
        self.answer_copies, self.change_on_copy = answer_copies, change_on_copy
        self.copies_answered = 0
        self.script = _Script(lines, openid, typos, random.Random(openid))
        self.rng, self.loss, self.tries = rng, loss, tries
        self.resend_after, self.retype_after = resend_after, retype_after
        self.blackout, self.change = set(blackout), change_on_retype
        self.patience, self.lose_all = patience, lose_all
        self.inbox: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self.shown: list[tuple[str, bool]] = []  # (text, a customer-service copy's answer lost)
        self.lost = self.resends = self.retyped = self.copies = self.gave_up_tries = 0
        self.doubled_copies = self.other_copies = 0
        self._loop = asyncio.get_running_loop()

    # what reaches the person
    def service(self, text: str, answer_lost: bool) -> None:
        """A customer-service message shown (from the fake's server thread)."""
        self._loop.call_soon_threadsafe(self.inbox.put_nowait, (text, answer_lost))

    async def _post(self, value: str, line: int | None, lift: bool = False) -> None:
        """One message typed: WeChat delivers it (resending when the answer is lost) and
        shows the passive reply if one got through."""
        self.fake.interact(self.openid)
        msg_id = str(next(self.server.msg_ids))
        body = message_xml(self.openid, "text", int(time.time()), MsgId=msg_id, Content=value)
        dark = line in self.blackout or (bool(self.lose_all) and self.rng.random() < self.lose_all)
        for attempt in range(self.tries):
            if attempt:
                self.resends += 1
                await asyncio.sleep(self.resend_after)
            response = await self.server.post(body)
            assert response.status_code == 200, response.text
            if lift:  # the retype has reached the bot: WeChat's API takes messages again
                self.fake.busy.discard(self.openid)
            if dark or self.rng.random() < self.loss:
                self.lost += 1
                self.script.log.append(f"  (answer {attempt} lost)")
                continue
            text = self.server.reply_text(response)
            if text:
                self.inbox.put_nowait((text, False))
            return
        self.gave_up_tries += 1  # WeChat stops trying; the bot sends the reply itself

    def _type(
        self, value: str, line: int | None, note: str = "", lift: bool = False
    ) -> asyncio.Task[None]:
        self.script.log.append(f"> {note}{value}")
        if line is not None and line in self.blackout:
            self.fake.busy.add(self.openid)
        return asyncio.ensure_future(self._post(value, line, lift))

    def _copy(self, text: str) -> bool:
        return any(seen == text or seen.endswith("\n" + text) for seen, _ in self.shown[:-1])

    async def run(self) -> bool:
        """The whole registration; True when it was submitted."""
        script = self.script
        line: int | None = 0
        posting = self._type(script.lines[0], 0)
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            try:
                text, answer_lost = await asyncio.wait_for(self.inbox.get(), self.retype_after)
            except TimeoutError:
                await posting
                if not self.inbox.empty():
                    continue
                # nothing came: they type it again (another value if they now mean another)
                self.retyped += 1
                dark = line is not None and line in self.blackout
                if line is not None and dark:
                    self.blackout.discard(line)  # this one gets through
                    other = other_value(line, script.lines[line]) if self.change else None
                    if other is not None:
                        script.final[line] = other
                value = script.final.get(line, script.lines[0]) if line else script.lines[0]
                posting = self._type(value, line, "(again) ", lift=dark)
                continue
            await posting  # its delivery is over: a passive reply to it is in the inbox
            batch = [(text, answer_lost)]
            while not self.inbox.empty():
                batch.append(self.inbox.get_nowait())
            latest: str | None = None  # they answer the latest question on their screen
            doubled: str | None = None  # a doubled delivery of the question they answered
            for text, answer_lost in batch:
                self.shown.append((text, answer_lost))
                script.log.append("< " + text.replace("\n", " ")[:60])
                if said(text, "streamer.submitted"):
                    script.done = True
                    return True
                if self._copy(text):
                    self.copies += 1
                    previous = self.shown[-2] if len(self.shown) > 1 else ("", False)
                    if previous[0] == text and previous[1]:
                        self.doubled_copies += 1
                        doubled = text
                    else:
                        self.other_copies += 1
                    continue
                latest = text
            if latest is None and doubled is not None and self.answer_copies and line:
                if script.asked.get(question_key(doubled)) == line:
                    if self.change_on_copy and (other := other_value(line, script.lines[line])):
                        script.final[line] = other
                    self.copies_answered += 1
                    posting = self._type(script.final[line], line, "(copy) ")
                continue
            if latest is None:
                continue
            found = script.answer_for(question_key(latest))
            if found is None:
                continue
            line, value = found
            posting = self._type(value, line)
        await posting
        return False


def service_router(fake: FakeWeChat, people: Iterable[WeChatPerson]) -> Callable[[], None]:
    """Routes the fake's customer-service texts to the followers; returns the undo."""
    by_openid = {p.openid: p for p in people}

    def route(openid: str, text: str, answer_lost: bool) -> None:
        person = by_openid.get(openid)
        if person is not None:
            person.service(text, answer_lost)

    fake.on_service = route

    def undo() -> None:
        fake.on_service = None

    return undo
