"""Invitation codes: issued by the committee only, one use, expiry, revocation, typing
tolerance, deep links, rate-limited guessing, the /invite form."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from models import Invitation, JoinAttempt, Role
from tests.catalog import begins, label, line, said
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, invite

CONTACT = label("invite.role_of_unit", unit="萍乡市 安源区")  # the role of ANYUAN's contact
ADMIN = label("opt.invite_role.admin")
ADMIN_NAME = "组委会管理员"  # the bootstrapped admin's display name (config.yaml)


def welcomed(out: str, role: str = CONTACT) -> bool:
    return said(out, "join.welcome_admin" if role == ADMIN else "join.welcome_contact", role=role)


def roles(core: Core) -> list[tuple[str, int | None]]:
    with core.sessions() as s:
        return [(r, u) for r, u in s.execute(select(Role.role, Role.unit_id).order_by(Role.id))]


def test_a_code_is_used_once(chat: Chat, core: Core) -> None:
    code = invite(chat, ANYUAN)
    assert welcomed(chat.say("c1", f"/join {code}"))
    assert chat.say("c2", f"/join {code}") == line("join.used")
    assert chat.say("c1", f"/join {code}") == line("join.already")  # one's own code again
    assert [r for r, _ in roles(core)] == ["admin", "unit_contact"]


def test_an_expired_code_is_refused(chat: Chat, core: Core, clock: FixedClock) -> None:
    code = invite(chat, ANYUAN)
    clock.advance(hours=72, seconds=1)
    assert chat.say("c1", f"/join {code}") == line("join.expired")
    assert [r for r, _ in roles(core)] == ["admin"]


def test_a_code_just_before_expiry_works(chat: Chat, clock: FixedClock) -> None:
    code = invite(chat, ANYUAN)
    clock.advance(hours=71, minutes=59)
    assert welcomed(chat.say("c1", f"/join {code}"))


def test_revoked_codes_and_the_open_list(chat: Chat, core: Core) -> None:
    first = invite(chat, ANYUAN)
    second = invite(chat, "admin")
    listing = chat.say("admin", "/invites")
    expires = "2020-11-05 20:00"
    assert listing.startswith(line("invite.open_title"))
    assert line("invite.open_line", code=first, role=CONTACT, expires=expires) in listing
    assert line("invite.open_line", code=second, role=ADMIN, expires=expires) in listing
    assert chat.press("admin", label("btn.revoke_code", code=first)) == line(
        "invite.revoked", code=first
    )
    assert chat.say("c1", f"/join {first}") == line("join.revoked")
    assert chat.say("admin", f"/revoke {first}") == line("invite.cannot_revoke", code=first)
    assert first not in chat.say("admin", "/invites")
    assert welcomed(chat.say("a2", f"/join {second.lower()}"), ADMIN)
    assert chat.say("admin", "/invites") == line("invite.none_open")
    # the new admin can now do what admins do
    assert invite(chat, ANYUAN, admin="a2")


def test_codes_are_read_forgivingly(chat: Chat) -> None:
    code = invite(chat, ANYUAN)
    typed = "ｊｏｉｎ＿" + code.lower().replace("-", " ")  # full-width, lower case, a space
    assert welcomed(chat.say("c1", f"/join {typed}"))


def test_the_deep_link_redeems_and_shows_the_menu(chat: Chat) -> None:
    code = invite(chat, ANYUAN).replace("-", "")
    out = chat.say("c1", f"/start join_{code}")
    assert begins(out, "join.welcome_contact", role=CONTACT)
    assert f"[1] {label('menu.streamer')}" in out


def test_a_role_one_already_has_does_not_use_up_the_code(chat: Chat, core: Core) -> None:
    chat.say("c1", f"/join {invite(chat, ANYUAN)}")
    again = invite(chat, ANYUAN)
    assert chat.say("c1", f"/join {again}") == line("join.already")
    assert welcomed(chat.say("c2", f"/join {again}"))


def test_guessing_is_rate_limited(chat: Chat, core: Core, clock: FixedClock) -> None:
    code = invite(chat, ANYUAN)
    assert begins(chat.say("g", "/join 😀"), "join.usage")  # not a try
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "12345678", "ZZZZ ZZZZ", "x" * 1500):
        assert begins(chat.say("g", f"/join {guess}"), "join.wrong"), guess
    assert chat.say("g", f"/join {code}") == line("join.too_many", minutes="60")
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(JoinAttempt)) == 5
        assert s.scalar(select(Invitation.redeemed_at)) is None
    clock.advance(minutes=61)
    assert welcomed(chat.say("g", f"/join {code}"))


def test_join_without_a_code_explains(chat: Chat) -> None:
    assert chat.say("c1", "/join") == line("join.usage")


def test_only_the_committee_invites(chat: Chat) -> None:
    chat.say("c1", f"/join {invite(chat, ANYUAN)}")
    refused = line("err.not_allowed")
    for command in ("/invite admin", f"/invite {ANYUAN}", "/invites", "/revoke ABCD-EFGH"):
        assert chat.say("c1", command) == refused
        assert chat.say("nobody", command) == refused


def test_invite_unknown_unit(chat: Chat) -> None:
    assert begins(chat.say("admin", "/invite 999999"), "invite.no_such_unit", code="999999")


def test_the_invite_form_picks_a_unit(chat: Chat, core: Core) -> None:
    out = chat.say("admin", "/invite")
    assert begins(out, "ask.invite_role")
    chat.say("admin", label("opt.invite_role.unit_contact"))
    chat.say("admin", "1")  # 设区市 / 县（市、区）团委
    chat.say("admin", "萍乡市")
    out = chat.say("admin", "安源区")
    assert f"{label('label.unit')}: 萍乡市 安源区" in out  # the form's summary
    out = chat.say("admin", label("btn.confirm"))
    assert said(out, "invite.issued", role=CONTACT)
    with core.sessions() as s:
        inv = s.scalars(select(Invitation)).one()
        assert inv.role == "unit_contact" and inv.unit_id is not None
        assert inv.expires_at - inv.created_at == dt.timedelta(hours=72)


def test_the_invite_form_for_an_admin_asks_no_unit(chat: Chat, core: Core) -> None:
    chat.say("admin", "/invite")
    out = chat.say("admin", ADMIN)
    assert f"{label('label.invite_role')}: {ADMIN}" in out  # the form's summary
    assert said(chat.say("admin", label("btn.confirm")), "invite.issued", role=ADMIN)


def test_the_committee_removes_a_role(chat: Chat, core: Core) -> None:
    chat.say("c1", f"/join {invite(chat, ANYUAN)}")
    chat.deliver()
    with core.sessions() as s:
        contact_role = s.scalar(select(Role.id).where(Role.role == "unit_contact"))
    listing = chat.say("admin", "/roles")
    assert begins(listing, "roles.title", n="2", page="1", pages="1")
    assert said(listing, "roles.line", id=contact_role, name="c1", role=CONTACT)
    remove = label("btn.remove_role", name="c1")
    assert f"[1] {remove}" in listing
    assert label("btn.remove_role", name=ADMIN_NAME) not in listing  # not oneself
    assert chat.press("admin", remove) == line("roles.removed", name="c1", role=CONTACT)
    assert said(chat.deliver(), "notice.role_removed", role=CONTACT)
    assert begins(chat.say("c1", "/review"), "err.reviewers_only")
    assert [r for r, _ in roles(core)] == ["admin"]
    with core.sessions() as s:
        role_id = s.scalar(select(Role.id))
    assert chat.say("admin", f"/unrole {role_id}") == line("roles.not_yourself")
    assert chat.say("admin", "/unrole 999") == line("roles.not_found", id="999")
    assert said(chat.say("admin", f"/history role {contact_role}"), "history.action.remove_role")
