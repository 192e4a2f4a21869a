"""A fake Telegram Bot API server on 127.0.0.1 for the end-to-end tests and the benchmark.

The real python-telegram-bot client talks HTTP to it (TELEGRAM_API_BASE_URL). It speaks the
Bot API's JSON shapes and error answers, long-polls getUpdates with Telegram's offset
semantics, and injects faults (429 with retry_after, 502 before or after executing a call,
dropped connections, 403 for a user who blocked the bot) and can answer slowly (`delay`: every
call takes a random time in a range, half of it before the call is executed, half after).
Simulated users send text, commands, photos and contacts and press the inline buttons the bot
showed them.

It runs its own event loop in a thread, so the code under test (in-process or a subprocess)
and the test's plain synchronous code never share a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import hashlib
import itertools
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "festival_test_bot"
# String parameters: PTB sends them as they are; everything else is JSON encoded.
_STRINGS = {"text", "caption", "callback_query_id", "url", "secret_token", "file_id", "parse_mode"}


@dataclass
class Fault:
    """One kind of failure for calls of `method` (None: any call but getUpdates)."""

    kind: str  # 429 | 502_before | 502_after | drop_before | drop_after | hang
    method: str | None = None
    times: int = 1  # how many calls it hits (rate=None)
    rate: float | None = None  # or: the share of calls it hits, until removed
    retry_after: int = 1
    # only calls whose parameters satisfy this (e.g. one chat's one question); None: any
    only: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Sent:
    """A message the bot sent (or a call it made that the users can see)."""

    message_id: int
    chat_id: int
    text: str
    markup: dict[str, Any] | None = None
    kind: str = "text"  # text | photo | document
    file_name: str | None = None
    edits: int = 0
    media: Any = None  # sendPhoto/sendDocument: an upload ({file_name, size}) or a file id
    answer_lost: bool = False  # sent by a call executed but answered 502 (or cut off)
    at: float = field(default_factory=time.monotonic)  # when the fake executed the call

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.markup or {}).get("inline_keyboard") or []
        return [b for row in rows for b in row]

    def requests_contact(self) -> bool:
        rows = (self.markup or {}).get("keyboard") or []
        return any(isinstance(b, dict) and b.get("request_contact") for row in rows for b in row)


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    executed: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.port = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self.sent: list[Sent] = []
        self.by_id: dict[tuple[int, int], Sent] = {}
        self.by_chat: dict[int, list[Sent]] = {}
        # Called (in the fake's loop, lock held) for each message the bot sends: the benchmark
        # wakes its simulated users with it instead of polling.
        self.on_sent: Callable[[Sent], None] | None = None
        self.callbacks: dict[str, bool] = {}  # callback query id -> answered
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}  # old group id -> supergroup id
        self.commands: dict[str, list[dict[str, str]]] = {}  # language ('' default) -> menu
        # (scope type, language) -> menu: private chats and groups have menus of their own
        self.menus: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.delivered = 0  # updates POSTed to a webhook and answered 200 (deliver_to)
        self.files: dict[str, bytes] = {}
        # the Bot API refuses a bot's upload above 50 MB (sendDocument): 413, after the upload
        self.max_upload_bytes = 50 * 1024 * 1024
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.last_call = time.monotonic()  # of any call but getUpdates: the bot is idle since
        self.random = random.Random(4)
        # (low, high) seconds every call takes (a slow API), drawn from its own seeded
        # generator, so the faults' sequence stays what it is without a delay
        self.delay: tuple[float, float] | None = None
        self._delays = random.Random(11)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._main: asyncio.Task[Any] | None = None

    # ----- life cycle -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeTelegram:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._wakeup = asyncio.Event()

            async def serve() -> None:
                self._main = asyncio.current_task()
                self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()
                async with self._server:
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._server.serve_forever()

            loop.run_until_complete(serve())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            mine = (asyncio.current_task(), self._main)
            others = [t for t in asyncio.all_tasks() if t not in mine]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            if self._server is not None:
                self._server.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- what the users do ----------------------------------------------------------------
    def push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._ids) + 500_000
            self.pending.append({"update_id": update_id, kind: payload})
        if self._loop and self._wakeup:
            self._loop.call_soon_threadsafe(self._wakeup.set)
        return update_id

    def deliver_to(self, urls: list[str], in_flight: int = 1, secret: str | None = None) -> None:
        """Webhook mode, as Telegram does it: the pending updates are POSTed to the webhook,
        here to `urls` in turn (a round-robin front over several workers), at most `in_flight`
        at once (Telegram's max_connections), in update order, each tried again until it is
        answered 200. `delivered` counts those answered 200."""
        assert self._loop is not None
        self.delivered = 0
        asyncio.run_coroutine_threadsafe(self._deliver(urls, in_flight, secret), self._loop)

    async def _deliver(self, urls: list[str], in_flight: int, secret: str | None) -> None:
        import aiohttp  # the fake's only client side

        assert self._wakeup is not None
        slots = asyncio.Semaphore(in_flight)
        turn = itertools.count()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        timeout = aiohttp.ClientTimeout(total=30)
        posting: set[asyncio.Task[None]] = set()

        async def post(session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
            try:
                while True:
                    url = urls[next(turn) % len(urls)]
                    try:
                        async with session.post(url, json=update, headers=headers) as answer:
                            if answer.status == 200:
                                self.delivered += 1
                                return
                    except (aiohttp.ClientError, TimeoutError):
                        pass  # that worker is down: the next one in turn gets it
                    await asyncio.sleep(0.05)
            finally:
                slots.release()

        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                with self._lock:
                    update = self.pending.pop(0) if self.pending else None
                if update is None:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                await slots.acquire()
                task = asyncio.ensure_future(post(session, update))
                posting.add(task)
                task.add_done_callback(posting.discard)

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def user(self, user_id: int, name: str = "", language: str = "zh-hans") -> SimUser:
        return SimUser(self, user_id, name or f"user{user_id}", language)

    def group(self, chat_id: int, title: str = "group") -> SimGroup:
        return SimGroup(self, chat_id, title)

    # ----- what the tests look at -----------------------------------------------------------
    def messages_to(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return list(self.by_chat.get(chat_id, ()))

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what was expected in time")
                self._changed.wait(min(left, 0.05))  # DB-side conditions are not notified

    def settle(self, chat_id: int, after: int, quiet: float = 0.08, timeout: float = 10.0) -> None:
        """Wait for a first new message to `chat_id`, then until none came for `quiet` s."""
        self.wait(lambda: len(self.messages_to(chat_id)) > after, timeout)
        last = -1
        while True:
            count = len(self.messages_to(chat_id))
            if count == last:
                return
            last = count
            time.sleep(quiet)

    def confirmed_all(self) -> bool:
        with self._lock:
            return not self.pending

    # ----- the HTTP server ------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                verb, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                result = await self._route(verb, target, headers, body)
                if result is None:  # a dropped connection
                    writer.transport.abort()
                    return
                status, ctype, payload = result
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _route(
        self, verb: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes] | None:
        path = urllib.parse.urlsplit(target).path
        file_prefix = f"/file/bot{self.token}/"
        if path.startswith(file_prefix):
            data = self.files.get(path[len(file_prefix) :])
            if data is None:
                return 404, "text/plain", b"not found"
            return 200, "application/octet-stream", data
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 404, "application/json", _error(404, "Not Found")[1]
        method = path[len(prefix) :]
        params = _params(headers.get("content-type", ""), body)
        with self._lock:
            self.stats.calls[method] = self.stats.calls.get(method, 0) + 1
            if method != "getUpdates":
                self.last_call = time.monotonic()
        fault = self._fault(method, params)
        slow = self._slow()
        if slow:  # half of a slow call's time passes before it is executed
            await asyncio.sleep(slow / 2)
        if fault is not None and fault.kind == "hang":  # never answers (and never executes)
            self._count_fault(fault.kind)
            await asyncio.sleep(3600)
            return None
        if fault is not None and fault.kind in ("429", "502_before", "drop_before"):
            self._count_fault(fault.kind)
            if slow:
                await asyncio.sleep(slow / 2)
            if fault.kind == "429":
                return _error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            if fault.kind == "502_before":
                return 502, "text/html", b"<html>502 Bad Gateway</html>"
            return None
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            answer = _error(404, "Not Found: method not found")
        elif method == "getUpdates":
            answer = await self._m_getUpdates(params)
        else:
            with self._changed:
                sent_before = len(self.sent)
                answer = handler(params)
                if fault is not None:  # executed, but its answer will be lost
                    for message in self.sent[sent_before:]:
                        message.answer_lost = True
                self.stats.executed[method] = self.stats.executed.get(method, 0) + 1
                self._changed.notify_all()
        if slow:  # and the other half on the way back
            await asyncio.sleep(slow / 2)
        if fault is not None:  # executed, but the answer is lost
            self._count_fault(fault.kind)
            if fault.kind == "502_after":
                return 502, "text/html", b"<html>502 Bad Gateway</html>"
            return None
        return answer

    def _slow(self) -> float:
        if self.delay is None:
            return 0.0
        with self._lock:
            return self._delays.uniform(*self.delay)

    def _fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method != method and (fault.method is not None or method == "getUpdates"):
                    continue
                if fault.only is not None and not fault.only(params):
                    continue
                if fault.rate is not None:
                    if self.random.random() < fault.rate:
                        return fault
                    continue
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _count_fault(self, kind: str) -> None:
        with self._lock:
            self.stats.faults[kind] = self.stats.faults.get(kind, 0) + 1

    # ----- Bot API methods (called with the lock held, except getUpdates) -------------------
    async def _m_getUpdates(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + timeout
        assert self._wakeup is not None
        while True:
            with self._lock:
                if offset:
                    self.pending = [u for u in self.pending if u["update_id"] >= offset]
                ready = self.pending[:limit]
                self._changed.notify_all()
            left = deadline - time.monotonic()
            if ready or left <= 0:
                return _ok(ready)
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)

    def _m_getMe(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        return _ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Festival",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _chat_check(self, p: dict[str, Any]) -> tuple[int, str, bytes] | int:
        chat_id = int(p.get("chat_id", 0))
        if chat_id in self.migrated:
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id in self.blocked:
            self.stats.faults["403"] = self.stats.faults.get("403", 0) + 1
            return _error(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _send(self, p: dict[str, Any], kind: str, text: str) -> tuple[int, str, bytes]:
        checked = self._chat_check(p)
        if not isinstance(checked, int):
            return checked
        if kind == "text" and not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > (4096 if kind == "text" else 1024):
            return _error(400, "Bad Request: message is too long")
        markup = p.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard") or []:
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = Sent(self.new_message_id(), checked, text, markup, kind)
        self.sent.append(message)
        self.by_id[(checked, message.message_id)] = message
        self.by_chat.setdefault(checked, []).append(message)
        if self.on_sent is not None:
            self.on_sent(message)
        result = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat(checked),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Festival"},
        }
        if kind == "text":
            result["text"] = text
        elif kind == "photo":
            result["photo"] = [_photo_size("bot-photo")]
        else:
            result["document"] = {"file_id": "bot-doc", "file_unique_id": "bot-doc"}
        if markup and "inline_keyboard" in markup:
            result["reply_markup"] = markup
        return _ok(result)

    def _m_sendMessage(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        return self._send(p, "text", str(p.get("text", "")))

    def _m_sendPhoto(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        if "photo" not in p:
            return _error(400, "Bad Request: there is no photo in the request")
        photo = p["photo"]
        if isinstance(photo, str) and f"photos/{photo}.jpg" not in self.files:
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        answer = self._send(p, "photo", str(p.get("caption", "")))
        if answer[0] == 200:
            self.sent[-1].media = photo  # _send runs under the lock: the last one is ours
        return answer

    def _m_sendDocument(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        if "document" not in p:
            return _error(400, "Bad Request: there is no document in the request")
        document = p["document"]
        if isinstance(document, dict) and document["size"] > self.max_upload_bytes:
            return _error(413, "Request Entity Too Large")
        answer = self._send(p, "document", str(p.get("caption", "")))
        if answer[0] == 200 and isinstance(document, dict):  # an upload: its name and size
            self.sent[-1].file_name = document.get("file_name")
            self.sent[-1].media = document
        return answer

    def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        message = self.by_id.get((int(p.get("chat_id", 0)), int(p.get("message_id", 0))))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup") or None
        if markup == message.markup or (not markup and not message.buttons()):
            return _error(400, "Bad Request: message is not modified")
        message.markup = markup
        message.edits += 1
        return _ok(self._shape(message))

    def _m_editMessageText(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        message = self.by_id.get((int(p.get("chat_id", 0)), int(p.get("message_id", 0))))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        text = str(p.get("text", ""))
        markup = p.get("reply_markup") or None
        if text == message.text and markup == message.markup:
            return _error(400, "Bad Request: message is not modified")
        message.text, message.markup = text, markup
        message.edits += 1
        return _ok(self._shape(message))

    def _shape(self, message: Sent) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat(message.chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Festival"},
            "text": message.text,
        }
        if message.markup:
            shaped["reply_markup"] = message.markup
        return shaped

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        query = str(p.get("callback_query_id", ""))
        if self.callbacks.get(query, True):  # unknown or answered already
            return _error(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callbacks[query] = True
        return _ok(True)

    def _m_getFile(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        file_id = str(p.get("file_id", ""))
        path = f"photos/{file_id}.jpg"
        if path not in self.files:  # a document keeps its own name's suffix
            path = next((k for k in self.files if k.startswith(f"documents/{file_id}.")), path)
        if path not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": len(self.files[path]),
                "file_path": path,
            }
        )

    def _m_setMyCommands(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        commands = p.get("commands") or []
        if not commands or any(not c.get("command") or not c.get("description") for c in commands):
            return _error(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[str(p.get("language_code") or "")] = commands
        scope = p.get("scope")
        kind = str(scope.get("type", "default")) if isinstance(scope, dict) else "default"
        self.menus[(kind, str(p.get("language_code") or ""))] = commands
        return _ok(True)

    def _m_setWebhook(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        self.webhook = {"url": p.get("url"), "secret_token": p.get("secret_token")}
        return _ok(True)

    def _m_deleteWebhook(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        self.webhook = {}
        if p.get("drop_pending_updates") in (True, "true"):
            self.pending.clear()
        return _ok(True)

    def _m_getWebhookInfo(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        return _ok(
            {
                "url": self.webhook.get("url") or "",
                "has_custom_certificate": False,
                "pending_update_count": len(self.pending),
            }
        )

    def _m_close(self, p: dict[str, Any]) -> tuple[int, str, bytes]:
        return _ok(True)


class SimUser:
    """A person in a private chat with the bot."""

    def __init__(self, fake: FakeTelegram, user_id: int, name: str, language: str) -> None:
        self.fake = fake
        self.id = user_id
        self.name = name
        self.language = language
        self.answered: list[str] = []  # what this user typed or pressed, in order

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.name,
            "username": self.name,
            "language_code": self.language,
        }

    def _message(self, chat: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {
            "message_id": self.fake.new_message_id(),
            "date": int(time.time()),
            "chat": chat,
            "from": self._from(),
            **content,
        }

    def _private(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.name}

    # raw actions: each returns the update id
    def text(self, text: str, chat: dict[str, Any] | None = None) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.fake.push("message", self._message(chat or self._private(), **content))

    def photo(self, name: str = "shot") -> int:
        file_id = f"{name}-{self.id}-{self.fake.new_message_id()}"
        with self.fake._lock:
            self.fake.files[f"photos/{file_id}.jpg"] = b"\xff\xd8\xff fake jpeg " + name.encode()
        sizes = [_photo_size(file_id + "-s", 90), _photo_size(file_id, 1280)]
        return self.fake.push("message", self._message(self._private(), photo=sizes))

    def document(self, file_name: str, data: bytes) -> int:
        """A file sent in the private chat (a sheet to import, a scan), as Telegram's
        message.document: the bot fetches it with getFile and the file URL."""
        file_id = f"doc-{self.id}-{self.fake.new_message_id()}"
        suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        with self.fake._lock:
            self.fake.files[f"documents/{file_id}.{suffix}"] = data
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": file_name,
            "mime_type": "application/octet-stream",
            "file_size": len(data),
        }
        return self.fake.push("message", self._message(self._private(), document=document))

    def contact(self, phone: str, own: bool = True) -> int:
        contact = {"phone_number": phone, "first_name": self.name}
        if own:
            contact["user_id"] = self.id
        return self.fake.push("message", self._message(self._private(), contact=contact))

    def sticker(self) -> int:
        sticker = {
            "file_id": "stk",
            "file_unique_id": "stk",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.fake.push("message", self._message(self._private(), sticker=sticker))

    def press_button(self, message: Sent, data: str) -> int:
        query_id = f"cq{self.fake.new_message_id()}"
        with self.fake._lock:
            self.fake.callbacks[query_id] = False
        shown = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat(message.chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Festival"},
            "text": message.text,
        }
        if message.markup:
            shown["reply_markup"] = message.markup
        return self.fake.push(
            "callback_query",
            {
                "id": query_id,
                "from": self._from(),
                "message": shown,
                "chat_instance": str(message.chat_id),
                "data": data,
            },
        )

    # conversation helpers
    @property
    def inbox(self) -> list[Sent]:
        return self.fake.messages_to(self.id)

    def find_button(self, label: str) -> tuple[Sent, str] | None:
        """The newest message still showing a button with this label (also '✅ label')."""
        for message in reversed(self.inbox):
            for button in message.buttons():
                text = button.get("text", "")
                if text == label or text == f"✅ {label}":
                    return message, button["callback_data"]
        return None

    def press(self, label: str, quiet: float = 0.08) -> list[Sent]:
        found = self.find_button(label)
        if found is None:
            shown = [b.get("text") for m in self.inbox[-3:] for b in m.buttons()]
            raise AssertionError(f"{self.name}: no button {label!r}; shown: {shown}")
        before = len(self.inbox)
        self.press_button(*found)
        self.answered.append(label)
        self.fake.settle(self.id, before, quiet)
        return self.inbox[before:]

    def say(self, line: str, quiet: float = 0.08) -> list[Sent]:
        """One console-style line: a shown button's label is pressed, '/photo X' sends a
        picture, '/contact N' shares a contact, anything else is typed. Waits for the replies."""
        if self.find_button(line) is not None:
            return self.press(line, quiet)
        before = len(self.inbox)
        if line.startswith("/photo"):
            self.photo(line[6:].strip() or "photo")
        elif line.startswith("/contact"):
            self.contact(line[8:].strip())
        else:
            self.text(line)
        self.answered.append(line)
        self.fake.settle(self.id, before, quiet)
        return self.inbox[before:]

    def run(self, lines: list[str], quiet: float = 0.08) -> list[Sent]:
        out: list[Sent] = []
        for line in lines:
            out += self.say(line, quiet)
        return out

    def last_text(self) -> str:
        inbox = self.inbox
        return inbox[-1].text if inbox else ""


class SimGroup:
    """A group chat with the bot in it."""

    def __init__(self, fake: FakeTelegram, chat_id: int, title: str) -> None:
        self.fake = fake
        self.id = chat_id
        self.title = title
        self.kind = "group"

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.kind, "title": self.title}

    @property
    def inbox(self) -> list[Sent]:
        return self.fake.messages_to(self.id)

    def say(self, user: SimUser, text: str, quiet: float = 0.08) -> list[Sent]:
        before = len(self.inbox)
        user.text(text, chat=self.chat())
        self.fake.settle(self.id, before, quiet)
        return self.inbox[before:]

    def upgrade(self, new_id: int) -> int:
        """The group becomes a supergroup: Telegram posts a service message in the old chat
        and answers 400 with migrate_to_chat_id to anything sent there afterwards."""
        old = self.chat()
        with self.fake._lock:
            self.fake.migrated[self.id] = new_id
        message = {
            "message_id": self.fake.new_message_id(),
            "date": int(time.time()),
            "chat": old,
            "from": {"id": 1, "is_bot": False, "first_name": "Group"},
            "migrate_to_chat_id": new_id,
        }
        update_id = self.fake.push("message", message)
        self.id, self.kind = new_id, "supergroup"
        return update_id


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "group"}
    return {"id": chat_id, "type": "private", "first_name": "user"}


def _photo_size(file_id: str, width: int = 1280) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "file_unique_id": file_id,
        "width": width,
        "height": width * 3 // 4,
        "file_size": 20_000,
    }


def _ok(result: Any) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps({"ok": True, "result": result}).encode()


def _error(
    code: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, str, bytes]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, "application/json", json.dumps(body).encode()


def _value(key: str, raw: str) -> Any:
    if key in _STRINGS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        return {k: _value(k, v) for k, v in pairs}
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        out: dict[str, Any] = {}
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            if not name or part.is_multipart():
                continue
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                out[str(name)] = {
                    "file_name": part.get_filename(),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),  # the bytes arrived whole
                }
            else:
                out[str(name)] = _value(str(name), data.decode())
        return out
    return {}


class BotThread:
    """Our real bot (bot.runner: Telegram, and WeChat too when its settings are given) on its
    own event loop in a thread, talking HTTP to the fake: the test's code stays plain and
    synchronous."""

    def __init__(self, core: Any, fake: FakeTelegram, **settings: Any) -> None:
        from bot.settings import Settings

        self.core = core
        self.settings = Settings(
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            **settings,
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.stop_event: asyncio.Event | None = None
        self.returned = False  # run() came back by itself (a graceful stop), not cancelled
        self._thread = threading.Thread(target=self._run, name="bot", daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        from bot.runner import run

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.task = asyncio.current_task()  # type: ignore[assignment]
            self.stop_event = asyncio.Event()
            self._started.set()
            await run(self.core, self.settings, self.stop_event)
            self.returned = True

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self.error = exc

    def start(self) -> BotThread:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        if self.loop is not None and self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self._thread.join(15)
        if self.error is not None:
            raise self.error

    def finish(self, timeout: float = 15) -> None:
        """A graceful stop, as SIGTERM gives one: the stop event, not a cancellation."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> BotThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


TELEGRAM_ADMIN = 9001  # a committee admin on Telegram in the tests' config


def config_for_tests(config: Any, **telegram: Any) -> Any:
    """The shipped config with a Telegram committee admin and, for fault runs, shorter
    backoffs (a test must not sleep for seconds)."""
    from bot.config import AdminIdentity

    admins = [
        *config.committee.admins,
        AdminIdentity(channel="telegram", user_id=str(TELEGRAM_ADMIN)),
    ]
    committee = config.committee.model_copy(update={"admins": admins})
    limits = config.telegram.model_copy(update=telegram)
    return config.model_copy(update={"committee": committee, "telegram": limits})
