"""Review by typed command (/approve, /reject) and /me (status, edit, withdraw)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.channels.console import render
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from models import AuditEntry, Enterprise, Identity, OutboxMessage, Product, Streamer
from tests.catalog import begins, buttons, label, line, notice, said
from tests.chat import Chat
from tests.flows import enterprise_two_products, streamer_lines

NOT_ALLOWED = line("err.not_allowed")
STALE = line("err.stale_button")
EDIT, WITHDRAW = label("btn.edit_streamer"), label("btn.withdraw")
EDIT_ENTERPRISE = label("btn.edit_enterprise")
WITHDRAW_ENTERPRISE = label("btn.withdraw_enterprise")
WITHDRAW_YES, KEEP = label("btn.withdraw_yes"), label("btn.keep_registration")
CONFIRM_WITHDRAW = line("me.withdraw_confirm") + buttons(WITHDRAW_YES, KEEP)


def me_card(
    status: str, followers: str = "12,000", reason: str | None = None, withdraw: bool = True
) -> str:
    """/me of the streamer register() makes, with its buttons."""
    card = line(
        "me.streamer",
        status=label(f"status.{status}"),
        accounts="抖音 小明的果园",
        unit="萍乡市 安源区",
        phone="13800138000",
        followers=followers,
    )
    if reason is not None:
        card += line("me.reason", reason=reason)
    card += line("share.statement", gmv="0", rate="20", share="0")  # information only
    return card + (buttons(EDIT, WITHDRAW) if withdraw else buttons(EDIT))


ME_PENDING = me_card("pending_review")


def register(chat: Chat, user: str = "s", account: str = "小明的果园") -> int:
    out = chat.run(user, [*streamer_lines(account), "确认提交"])
    assert said(out, "streamer.submitted", account=account)
    return streamer_of(chat.core, user).id


def streamer_of(core: Core, user: str) -> Streamer:
    with core.sessions() as s:
        person_id = s.scalar(select(Identity.person_id).where(Identity.user_id == user))
        return s.scalars(select(Streamer).where(Streamer.person_id == person_id)).one()


def person_of(core: Core, user: str) -> int:
    with core.sessions() as s:
        return s.scalars(select(Identity.person_id).where(Identity.user_id == user)).one()


def press_data(core: Core, user: str, data: str) -> str:
    inc = Incoming(channel="console", user_id=user, chat_id=user, button=data)
    return render(core.process_sync(inc))


def button_data(chat: Chat, shown: str) -> str:
    return next(b.data for r in chat.last for b in r.flat_buttons() if b.label == shown)


def field(key: str, value: str) -> str:
    """A line of a form's summary: the field's label and its value."""
    return f"{label(key)}: {value}\n"


def audit_actions(core: Core) -> list[str]:
    with core.sessions() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ----- review by typed command (the /review queue: tests/test_committee.py) ----------------
REVIEWERS_ONLY = line("err.reviewers_only")
USAGE = line("review.usage")


def test_review_commands_are_for_reviewers_only(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("s", "/pending") == REVIEWERS_ONLY
    assert chat.say("s", "/review") == REVIEWERS_ONLY
    assert chat.say("s", f"/approve streamer {sid}") == REVIEWERS_ONLY
    assert chat.say("someone", f"/reject streamer {sid} 不合格") == REVIEWERS_ONLY
    assert chat.say("someone", "/invite admin") == NOT_ALLOWED
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_bad_review_commands_explain_the_usage(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("admin", "/approve") == USAGE
    assert chat.say("admin", "/approve streamer abc") == USAGE
    assert chat.say("admin", f"/approve shop {sid}") == USAGE
    assert chat.say("admin", f"/approve streamer {'9' * 400}") == line(
        "review.not_found",
        kind="streamer",
        id="9" * 24 + "…",  # shown as typed, not cut
    )
    assert chat.say("admin", f"/reject streamer {sid}") == line("review.reason_needed", max="200")
    assert chat.say("admin", f"/approve streamer {sid + 100}") == line(
        "review.not_found", kind="streamer", id=sid + 100
    )
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]


def test_reject_with_reason_notifies_and_me_shows_it(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("admin", f"/reject streamer {sid}   粉丝量截图不清晰") == line(
        "review.done_reject", title="小明的果园"
    )
    assert chat.deliver() == notice(
        "s", line("notice.rejected", title="小明的果园", reason="粉丝量截图不清晰")
    )
    streamer = streamer_of(core, "s")
    assert (streamer.status, streamer.reject_reason) == ("rejected", "粉丝量截图不清晰")
    assert streamer.reviewed_by == person_of(core, "admin")
    with core.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reject")).one()
        assert (entry.entity, entry.entity_id, entry.note) == ("streamer", sid, "粉丝量截图不清晰")
        assert entry.before == {"status": "pending_review"}
        assert entry.after == {"status": "rejected"}
    assert chat.say("s", "/me") == me_card("rejected", reason="粉丝量截图不清晰")
    # decided once: a second decision is refused and nobody is told twice
    assert chat.say("admin", f"/approve streamer {sid}") == line(
        "review.not_pending", status=label("status.rejected")
    )
    assert chat.deliver() == ""


def test_products_are_reviewed_one_by_one(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        ent_id = s.scalars(select(Enterprise.id)).one()
        p1, p2 = s.scalars(select(Product.id).order_by(Product.id)).all()
    assert chat.say("admin", f"/reject product {p1} 不在扶贫目录内") == line(
        "review.done_reject", title="莲花血鸭"
    )
    assert chat.deliver() == notice(
        "ent", line("notice.rejected", title="莲花血鸭", reason="不在扶贫目录内")
    )
    with core.sessions() as s:  # the other product still waits: so does the enterprise
        assert s.get(Enterprise, ent_id).status == "pending_review"  # type: ignore[union-attr]
    assert chat.say("admin", f"/approve product {p2}") == line(
        "review.done_approve", title="安源脐橙"
    )
    assert said(chat.deliver(), "notice.approved", title="安源脐橙")
    with core.sessions() as s:
        statuses = s.execute(select(Product.id, Product.status, Product.reject_reason)).all()
        assert sorted(statuses) == sorted(
            [(p1, "rejected", "不在扶贫目录内"), (p2, "approved", None)]
        )
        assert s.get(Enterprise, ent_id).status == "approved"  # type: ignore[union-attr]
    assert chat.say("ent", "/me") == (
        line("me.enterprise", name="萍乡绿源农业有限公司", status=label("status.approved"))
        + line("me.product_counts", approved=1, waiting=0, rejected=1)
        + line("me.product", name="莲花血鸭", status=label("status.rejected"))
        + line("me.product_reason", reason="不在扶贫目录内")
        + line("me.product", name="安源脐橙", status=label("status.approved"))
        + line("money.rule_donation", rate="5", threshold="100,000", share="50")
        + buttons(EDIT_ENTERPRISE, WITHDRAW_ENTERPRISE)
    )


def test_an_enterprise_with_every_product_rejected_is_rejected(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        ent_id = s.scalars(select(Enterprise.id)).one()
        p1, p2 = s.scalars(select(Product.id).order_by(Product.id)).all()
    chat.say("admin", f"/reject product {p1} 图片不清晰")
    chat.say("admin", f"/reject product {p2} 图片不清晰")
    with core.sessions() as s:
        assert s.get(Enterprise, ent_id).status == "rejected"  # type: ignore[union-attr]


# ----- /me ---------------------------------------------------------------------------------
def test_me_without_registrations(chat: Chat) -> None:
    assert chat.say("new", "/me") == line("me.nothing")


def test_me_edit_opens_the_summary_and_resubmits(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("admin", f"/reject streamer {sid} 粉丝量截图不清晰")
    chat.say("s", "/me")
    out = chat.press("s", EDIT)
    assert out.startswith(
        line("streamer.summary_title")
        + "\n"
        + field("label.unit_group", label("opt.unit_group.city"))
        + field("label.city", "萍乡市")
        + field("label.unit", "萍乡市 安源区")
        + field("label.platform", "抖音")
        + field("label.account_name", "小明的果园")
    )
    assert field("label.followers", "12,000") in out
    followers = label("btn.edit_field", label=label("label.followers"))
    assert chat.press("s", followers) == (
        line("ask.followers", min="1,000")
        + line("form.current", value="12,000")
        + buttons(label("btn.back"), label("btn.keep"), label("btn.cancel"), numbered=False)
    )
    assert field("label.followers", "20,000") in chat.say("s", "2万")
    assert chat.say("s", label("btn.confirm")) == line(
        "streamer.submitted",
        account="小明的果园",
        unit="萍乡市 安源区",
        status=label("status.pending_review"),
    )
    streamer = streamer_of(core, "s")
    assert (streamer.id, streamer.status, streamer.followers) == (sid, "pending_review", 20000)
    assert audit_actions(core) == ["register", "reject", "edit"]
    assert chat.say("s", "/me") == me_card("pending_review", followers="20,000")


def test_withdraw_asks_first_then_withdraws(chat: Chat, core: Core) -> None:
    register(chat)
    assert chat.say("s", "/me") == ME_PENDING
    assert chat.press("s", WITHDRAW) == CONFIRM_WITHDRAW
    assert chat.press("s", KEEP) == line("me.kept")
    assert streamer_of(core, "s").status == "pending_review"
    chat.say("s", "/me")
    assert chat.press("s", WITHDRAW) == CONFIRM_WITHDRAW
    assert chat.press("s", WITHDRAW_YES) == line("me.withdrawn")
    assert streamer_of(core, "s").status == "withdrawn"
    with core.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "withdraw")).one()
        assert (entry.before, entry.after) == (
            {"status": "pending_review"},
            {"status": "withdrawn"},
        )
    assert chat.say("s", "/me") == me_card("withdrawn", withdraw=False)
    assert chat.say("admin", "/review") == line("review.queue_empty")
    assert chat.say("s", "/report") == line("report.not_approved", status=label("status.withdrawn"))


def test_text_after_me_says_what_is_expected(chat: Chat, core: Core) -> None:
    """Typed text (or a sticker) at the /me card or its withdrawal question is no answer:
    the person is told to use the buttons and sees the same question again."""
    use_buttons, confirm = line("err.use_buttons"), CONFIRM_WITHDRAW
    register(chat)
    chat.say("s", "/me")
    assert chat.say("s", "你好") == use_buttons + ME_PENDING
    assert chat.say("s", "/sticker") == use_buttons + ME_PENDING
    assert chat.press("s", WITHDRAW) == confirm
    assert chat.say("s", "你好") == use_buttons + confirm  # not the card: still this question
    out = chat.say("s", "/help")
    assert begins(out, "help.text", festival="点亮原产地·江西青年直播节")
    assert out.endswith(confirm)
    assert streamer_of(core, "s").status == "pending_review"
    assert chat.press("s", WITHDRAW_YES) == line("me.withdrawn")
    assert streamer_of(core, "s").status == "withdrawn"


# ----- stale buttons -----------------------------------------------------------------------
def test_withdraw_confirmed_twice_is_stale_the_second_time(chat: Chat, core: Core) -> None:
    register(chat)
    chat.say("s", "/me")
    chat.press("s", WITHDRAW)
    yes = button_data(chat, WITHDRAW_YES)
    assert press_data(core, "s", yes) == line("me.withdrawn")
    assert press_data(core, "s", yes) == STALE
    assert audit_actions(core) == ["register", "withdraw"]


def test_an_old_me_button_after_another_step_is_stale(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("s", "/me")
    withdraw = button_data(chat, WITHDRAW)
    edit = button_data(chat, EDIT)
    assert said(chat.say("s", "/help"), "help.text")  # answered, then /me again
    assert press_data(core, "s", withdraw) == STALE + ME_PENDING
    assert press_data(core, "s", edit) == STALE + ME_PENDING
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]
    # the stale press did not disturb the conversation: the current buttons still work
    chat.say("s", "/me")
    assert chat.press("s", WITHDRAW) == CONFIRM_WITHDRAW
    assert streamer_of(core, "s").id == sid


def test_an_old_withdraw_confirmation_after_keeping_is_stale(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("s", "/me")
    withdraw = button_data(chat, WITHDRAW)
    chat.press("s", WITHDRAW)
    stale_yes = button_data(chat, WITHDRAW_YES)
    chat.press("s", KEEP)
    assert press_data(core, "s", stale_yes) == STALE
    assert press_data(core, "s", withdraw) == STALE
    assert streamer_of(core, "s").status == "pending_review"
    assert chat.say("admin", f"/approve streamer {sid}") == line(
        "review.done_approve", title="小明的果园"
    )
    assert streamer_of(core, "s").status == "approved"


def test_a_command_in_the_middle_of_a_form_says_the_draft_is_kept(chat: Chat) -> None:
    """/me in the middle of a registration: the person is told the answers are a draft, and
    /me speaks of that draft instead of saying there is nothing."""
    from tests.flows import streamer_lines

    chat.run("new", streamer_lines("new_farm")[:5])  # up to the city: some answers given
    out = chat.say("new", "/me")
    assert said(out, "form.left_draft", title=label("form.name.streamer"))
    assert said(out, "me.draft_open", titles=label("form.name.streamer"))
    again = chat.say("new", "/register")  # the same form: its own draft prompt says it
    assert said(again, "form.draft_found", title=label("form.name.streamer"))
    assert not said(again, "form.left_draft", title=label("form.name.streamer"))


def test_editing_the_phone_of_an_approved_registration_keeps_it_approved(
    chat: Chat, core: Core
) -> None:
    """Only the phone changes: still approved, "updated", and no reviewer is asked again; a
    key field (the account) changing goes back to review, and that notice does go out."""
    sid = register(chat)
    chat.say("admin", f"/approve streamer {sid}")
    chat.deliver()
    chat.say("s", "/me")
    chat.press("s", EDIT)
    chat.press("s", label("btn.edit_field", label=label("label.phone")))
    chat.say("s", "139 0000 2222")
    out = chat.say("s", label("btn.confirm"))
    assert said(out, "streamer.updated", status=label("status.approved"))
    streamer = streamer_of(core, "s")
    assert (streamer.status, streamer.phone) == ("approved", "13900002222")
    assert not said(chat.deliver(), "notice.submitted_streamer", title="小明的果园")
    assert audit_actions(core) == ["register", "approve", "edit"]

    chat.say("s", "/me")
    chat.press("s", EDIT)
    chat.press("s", label("btn.edit_field", label=label("label.account_name")))
    chat.say("s", "小明的新果园")
    out = chat.say("s", label("btn.confirm"))
    assert said(out, "streamer.submitted", account="小明的新果园")
    assert streamer_of(core, "s").status == "pending_review"
    assert "小明的新果园" in chat.deliver()


def test_each_resubmission_is_told_even_at_the_same_clock_time(chat: Chat, core: Core) -> None:
    """Notices are keyed by the submission (its audit entry), not by the time to the second:
    the tests' clock stands still, like a rehearsal clock started again at the same time."""
    chat.say("admin", "/help")  # the committee admin (from the config) is known from now on
    sid = register(chat)
    first = chat.deliver()
    assert "小明的果园" in first
    for followers in ("2万", "3万"):
        chat.say("admin", f"/reject streamer {sid} 截图不清晰")
        chat.deliver()
        chat.say("s", "/me")
        chat.press("s", EDIT)
        chat.press("s", label("btn.edit_field", label=label("label.followers")))
        chat.say("s", followers)
        chat.say("s", label("btn.confirm"))
        assert "小明的果园" in chat.deliver(), followers
    with core.sessions() as s:
        key = OutboxMessage.idempotency_key
        keys = list(s.scalars(select(key).where(key.like("submitted:%"))))
    assert len(keys) == len(set(keys)) == 3


def test_an_enterprise_withdraws_itself_and_its_products(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    chat.say("ent", "/me")
    assert said(chat.press("ent", WITHDRAW_ENTERPRISE), "me.withdraw_enterprise_confirm")
    assert said(chat.say("ent", "你好"), "err.use_buttons")  # the same question again
    out = chat.press("ent", WITHDRAW_YES)
    assert said(out, "me.enterprise_withdrawn", name="萍乡绿源农业有限公司")
    with core.sessions() as s:
        assert s.scalars(select(Enterprise.status)).one() == "withdrawn"
        assert set(s.scalars(select(Product.status))) == {"withdrawn"}
    assert audit_actions(core)[-1] == "withdraw"
    out = chat.say("ent", "/me")
    assert WITHDRAW_ENTERPRISE not in out and EDIT_ENTERPRISE in out
    chat.press("ent", EDIT_ENTERPRISE)
    out = chat.say("ent", label("btn.confirm"))
    with core.sessions() as s:
        assert s.scalars(select(Enterprise.status)).one() != "withdrawn", out
        assert "withdrawn" not in set(s.scalars(select(Product.status)))
