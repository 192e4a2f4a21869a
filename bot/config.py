"""config.yaml loaded into nested pydantic models, validated once at start.

The config object is passed explicitly to whatever needs it; there is no module-level global.

Longer than 300 lines on purpose: it is one schema, config.yaml's sections in its order, and
splitting it would scatter the checks that span sections (dates against dates, units against
quotas) away from the fields they check.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ConfigError(Exception):
    """A config file that cannot be used; the message names the key path and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def in_locale(locale: str | None, zh: str, en: str | None) -> str:
    """The one rule for festival data shown to a person: the English name for an English
    reader when the config gives one, else the Chinese (a proper name has no other)."""
    return en if locale == "en" and en else zh


class Labelled(_Strict):
    """Festival data with a name people read (a platform, a category, an award): `label` in
    Chinese, `label_en` for English readers (None: the Chinese label is a proper name)."""

    label: str = Field(min_length=1, max_length=40)
    label_en: str | None = Field(default=None, min_length=1, max_length=40)

    def label_in(self, locale: str | None) -> str:
        return in_locale(locale, self.label, self.label_en)

    def names(self) -> tuple[str, ...]:
        """Every name of it, in either language: a person may type any of them."""
        return (self.label,) if self.label_en is None else (self.label, self.label_en)


class FestivalInfo(_Strict):
    name: str
    name_en: str
    topic_tag: str
    year: int

    def name_in(self, locale: str | None) -> str:
        return in_locale(locale, self.name, self.name_en)


class LocaleConfig(_Strict):
    default: Literal["zh_CN", "en"] = "zh_CN"
    available: list[Literal["zh_CN", "en"]] = ["zh_CN", "en"]


class Calendar(_Strict):
    timezone: str = "Asia/Shanghai"
    registration_deadline: dt.date
    # after the deadline people cannot register themselves (units' and the committee's late
    # entries still can be added, marked late); false: self-registration stays open
    registration_closes: bool = True
    review_until: dt.date
    warmup_start: dt.date
    warmup_end: dt.date
    launch: dt.datetime
    live_start: dt.date
    live_end: dt.date
    feedback_deadline: dt.date

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Calendar:
        if not self.warmup_start <= self.warmup_end:
            raise ValueError("warmup_start must not be after warmup_end")
        if not self.live_start <= self.live_end:
            raise ValueError("live_start must not be after live_end")
        if not self.registration_deadline <= self.live_start:
            raise ValueError("registration_deadline must be before live_start")
        if not self.live_end <= self.feedback_deadline:
            raise ValueError("feedback_deadline must not be before live_end")
        if not self.registration_deadline <= self.review_until <= self.live_start:
            raise ValueError("review_until must be between registration_deadline and live_start")
        if not self.registration_deadline <= self.launch.date() <= self.live_end:
            raise ValueError("launch must be between registration_deadline and live_end")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Quota(_Strict):
    min: int = Field(ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> Quota:
        if self.max is not None and self.max < self.min:
            raise ValueError("max must not be below min")
        return self


UnitKind = Literal["city", "county", "provincial_university", "other_university", "provincial_unit"]


class UnitKindConfig(Labelled):
    streamers: Quota
    products: Quota


class ExtraUnit(_Strict):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["provincial_university", "other_university", "provincial_unit"]


class UnitsConfig(_Strict):
    kinds: dict[UnitKind, UnitKindConfig]
    extra: list[ExtraUnit] = []

    @model_validator(mode="after")
    def _all_kinds(self) -> UnitsConfig:
        missing = {"city", "county"} - set(self.kinds)
        if missing:
            raise ValueError(f"quotas missing for unit kinds: {sorted(missing)}")
        codes = [u.code for u in self.extra]
        if len(codes) != len(set(codes)):
            raise ValueError("extra unit codes must be unique")
        return self


Declaration = Literal["experience", "good_record", "planning", "teamwork"]


class Eligibility(_Strict):
    min_followers: int = Field(ge=0)
    declarations: list[Declaration] = ["experience", "good_record", "planning", "teamwork"]


class Revenue(_Strict):
    streamer_commission_rate: Decimal = Field(ge=0, le=1)
    donation_rate: Decimal = Field(ge=0, le=1)
    directed_donation_threshold_yuan: int = Field(ge=0)
    directed_donation_share_above_threshold: Decimal = Field(ge=0, le=1)


class StreamerAward(Labelled):
    key: str
    count: int = Field(ge=0)


class EnterpriseAward(Labelled):
    key: str
    min_donation_yuan: int = Field(ge=0)


class ScoreWeights(_Strict):
    gmv: Decimal = Field(ge=0)
    live_days: Decimal = Field(ge=0)
    avg_daily_hours: Decimal = Field(ge=0)
    viewers: Decimal = Field(ge=0)
    likes: Decimal = Field(ge=0)

    @model_validator(mode="after")
    def _sum_one(self) -> ScoreWeights:
        total = self.gmv + self.live_days + self.avg_daily_hours + self.viewers + self.likes
        if abs(total - 1) > Decimal("0.0001"):
            raise ValueError(f"weights must sum to 1, not {total}")
        return self


class OrganisationWeights(_Strict):
    """优秀组织奖: the weight of each of a unit's metrics in its composite score."""

    streamers: Decimal = Field(ge=0)
    products: Decimal = Field(ge=0)
    sales: Decimal = Field(ge=0)
    winners: Decimal = Field(ge=0)
    publicity: Decimal = Field(ge=0)

    @model_validator(mode="after")
    def _sum_one(self) -> OrganisationWeights:
        total = self.streamers + self.products + self.sales + self.winners + self.publicity
        if abs(total - 1) > Decimal("0.0001"):
            raise ValueError(f"weights must sum to 1, not {total}")
        return self


class Awards(_Strict):
    streamer: list[StreamerAward]
    organisation_count: int = Field(ge=0)
    organisation_weights: OrganisationWeights
    enterprise: list[EnterpriseAward]
    enterprise_tiers_until: dt.date  # tiers follow payments received until this day
    score_weights: ScoreWeights


class AuditConfig(_Strict):
    """The top-N audit before the award list is frozen (/audit) and the reconciliation of
    reported figures (/reconcile)."""

    # Streamers of the final board whose reports are audited before `/awards final`; None:
    # as many as the streamer award places (the sum of awards.streamer counts); 0: no audit.
    top_n: int | None = Field(default=None, ge=0, le=10_000)
    # /reconcile lists a difference above both thresholds that are set (at least one):
    # `percent` of the independent figure (the enterprise's turnover, the backend GMV),
    # `yuan` in absolute terms.
    reconcile_percent: Decimal | None = Field(default=Decimal(5), ge=0, le=1000)
    reconcile_yuan: int | None = Field(default=1000, ge=0)

    @model_validator(mode="after")
    def _a_threshold(self) -> AuditConfig:
        if self.reconcile_percent is None and self.reconcile_yuan is None:
            raise ValueError("reconcile_percent and reconcile_yuan cannot both be null")
        return self


class TurnoverConfig(_Strict):
    """When enterprises report their festival turnover, and the typo bound."""

    opens: dt.date
    deadline: dt.date
    max_yuan: int = Field(default=1_000_000_000, gt=0)


class Scoring(_Strict):
    max_hours_per_day: int = Field(default=12, gt=0, le=24)
    min_minutes_per_day: int = Field(default=30, ge=0, le=24 * 60)


class Leaderboard(_Strict):
    top_n: int = Field(default=20, gt=0, le=200)
    caption_lines: int = Field(default=3, ge=0, le=20)  # the group's picture: short text
    weekday: int = Field(default=1, ge=1, le=7)
    hour: int = Field(default=10, ge=0, le=23)
    # which picture each kind of chat gets: landscape (1600 wide, the unit in its own column)
    # or portrait (1080 wide, sized for phones); portrait_rows: rows in the portrait one
    group_picture: Literal["landscape", "portrait"] = "landscape"
    private_picture: Literal["landscape", "portrait"] = "portrait"
    portrait_rows: int = Field(default=30, gt=0, le=30)


class Timed(_Strict):
    """A scheduled job's local hour (and minute); grace: how late a missed run may still go."""

    hour: int = Field(ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    grace_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)


class DaysBefore(Timed):
    days_before: list[int] = Field(min_length=1)

    @field_validator("days_before")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(d < 0 for d in value) or len(set(value)) != len(value):
            raise ValueError("days must be distinct and not negative")
        return value


class Digest(Timed):
    first_day: dt.date  # daily from this day until calendar.review_until


class LaunchReminders(_Strict):
    day_before: Timed  # the day before the launch, at this hour
    hours_before: int = Field(default=1, gt=0, le=48)  # and this long before it
    grace_minutes: int = Field(default=30, ge=0)


class LiveDigest(Timed):
    """The committee's evening digest in the live month."""

    silent_days: int = Field(default=3, ge=1, le=31)  # no report for this many days: listed
    names: int = Field(default=10, ge=0, le=100)  # how many of them by account name


class Schedule(_Strict):
    """When the scheduler sends what (Asia/Shanghai); dates come from calendar.*."""

    registration_reminders: DaysBefore  # to unit contacts, before registration_deadline
    digest: Digest  # to committee admins
    warmup: Timed  # on warmup_start, to approved streamers
    launch: LaunchReminders
    evening_nudge: Timed  # daily in the live period, to streamers without a report that day
    board_grace_minutes: int = Field(default=360, ge=0)  # weekly board: leaderboard.*
    last_report: Timed  # on live_end: the last reminder to report
    final_board: Timed  # the day after the backfill window of live_end closes
    feedback_reminder: DaysBefore  # before feedback_deadline
    # daily from first_day until calendar.live_end: temporary WeChat QR codes renewed before
    # they expire, the new posters sent to the unit contacts (none: no renewal job)
    wechat_qr: Digest | None = None
    # daily from live_start until the backfill of live_end closes, to committee admins
    live_digest: LiveDigest | None = None
    # weekly on the board's day (leaderboard.weekday) in the live month, to unit contacts
    unit_digest: Timed | None = None
    # daily until registration_deadline: a nudge to people whose registration draft has not
    # moved for conversation.stale_after_hours (once per draft left)
    stale_drafts: Timed | None = None
    # how often the scheduler looks for due jobs besides their own fire times (rehearsal clock)
    tick_seconds: int = Field(default=60, gt=0, le=3600)


EvidenceMode = Literal["optional", "all", "flagged", "above"]


class Reports(_Strict):
    backfill_days: int = Field(default=1, ge=0, le=31)
    # when a screenshot must come with a report: optional | all (every report) | flagged (a
    # report an anomaly rule holds) | above (GMV above evidence_above_yuan, and flagged ones)
    evidence: EvidenceMode = "optional"
    evidence_above_yuan: int = Field(default=50_000, gt=0)
    only_in_live_period: bool = True
    max_hours_per_report: int = Field(default=24, gt=0, le=24)
    max_gmv_yuan: int = Field(default=100_000_000, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _old_evidence_flag(cls, data: Any) -> Any:
        """Configs written before the evidence modes said `evidence_required: true|false`."""
        if isinstance(data, dict) and "evidence_required" in data:
            data = dict(data)
            old = data.pop("evidence_required")
            if "evidence" in data:
                raise ValueError("evidence_required and evidence: keep only evidence")
            data["evidence"] = "all" if old else "optional"
        return data

    def evidence_needed(self, gmv_fen: int, flagged: bool) -> bool:
        """Whether a report with this GMV (held or not by the anomaly rules) needs a
        screenshot."""
        if self.evidence == "all":
            return True
        if self.evidence == "above":
            return flagged or gmv_fen > self.evidence_above_yuan * 100
        return self.evidence == "flagged" and flagged


class Trust(_Strict):
    """The anomaly rules (models/anomaly_rules.py): a report one of them flags is held, it
    does not count on boards until a reviewer clears it."""

    median_factor: float = Field(default=20, gt=1)  # GMV above k x the streamer's own median
    median_after_reports: int = Field(default=3, ge=1)  # ... once this many reports exist
    aov_factor: float = Field(default=5, gt=1)  # GMV/orders beyond x or 1/x of the picks' average
    aov_min_yuan: float = Field(default=1, ge=0)  # GMV/orders outside these bounds
    aov_max_yuan: float = Field(default=5_000, gt=0)
    correction_raise_percent: int = Field(default=50, ge=0)  # a correction raising GMV more
    max_day_hours: int = Field(default=16, gt=0, le=48)  # a day's reports summed, all platforms
    backfill_edge_hours: int = Field(default=2, ge=0, le=24)  # filed this close to the window's end
    history_shown: int = Field(default=7, gt=0, le=30)  # the streamer's reports on the card

    @model_validator(mode="after")
    def _bounds(self) -> Trust:
        if self.aov_min_yuan >= self.aov_max_yuan:
            raise ValueError("aov_min_yuan must be below aov_max_yuan")
        return self


class Choice(Labelled):
    key: str = Field(min_length=1, max_length=20, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=20)  # a button


class Category(Labelled):
    """A product category (行业/品类): stored by its Chinese label, as the notice's sheets
    write it; `- 茶叶` in the config is `{label: 茶叶}`."""

    @model_validator(mode="before")
    @classmethod
    def _plain_label(cls, data: Any) -> Any:
        return {"label": data} if isinstance(data, str) else data


class Platform(Choice):
    # the streamer form's questions only this platform's streamers are asked (音浪 and dou+
    # are Douyin's); a question no platform names is asked of everybody
    asks: list[str] = []


class Products(_Strict):
    categories: list[Category] = Field(min_length=1)
    priority_tags: list[Choice]
    max_per_enterprise: int = Field(default=20, gt=0, le=100)
    max_picks_per_streamer: int = Field(default=10, gt=0, le=100)


class CommitteeContact(_Strict):
    department: str
    department_en: str | None = None
    name: str
    phone: str

    def department_in(self, locale: str | None) -> str:
        return in_locale(locale, self.department, self.department_en)


class AdminIdentity(_Strict):
    channel: Literal["console", "telegram", "wechat"]
    user_id: str = Field(min_length=1)
    name: str = ""


class Invitations(_Strict):
    ttl_hours: int = Field(default=72, gt=0, le=24 * 60)
    # /join with a wrong, used or expired code: at most this many per person per window
    # (wrong /link codes count too: one budget for guessing one-time codes).
    max_failed_joins: int = Field(default=5, gt=0)
    failed_window_minutes: int = Field(default=60, gt=0)


class Committee(_Strict):
    contacts: list[CommitteeContact] = []
    admins: list[AdminIdentity] = []
    invitations: Invitations = Invitations()
    review_page_size: int = Field(default=15, gt=0, le=50)  # /units, /streamers lines per page


class GroupChat(_Strict):
    channel: Literal["console", "telegram", "wechat", "wecom"]
    chat_id: str
    name: str = ""
    # WeCom only: a group robot (webhook) or an app group chat; key_env names the environment
    # variable holding the robot's webhook key or the appchat's chat id (secrets stay in env).
    kind: Literal["robot", "appchat"] | None = None
    key_env: str | None = None

    @model_validator(mode="after")
    def _wecom_needs_kind(self) -> GroupChat:
        if self.channel == "wecom" and (self.kind is None or not self.key_env):
            raise ValueError("a wecom group chat needs kind (robot|appchat) and key_env")
        return self


class ConversationConfig(_Strict):
    text_max_len: int = Field(default=100, gt=0, le=1000)
    message_max_len: int = Field(default=2000, gt=0, le=10000)
    stale_after_hours: int = Field(default=72, gt=0)


class PlausibilityConfig(_Strict):
    """What a real account can have: answers beyond it are asked again with the reason (a
    phone number typed as a follower count), and unusual but possible ones confirmed."""

    max_followers: int = Field(default=200_000_000, gt=0)
    max_cumulative: int = Field(default=100_000_000_000, gt=0)  # viewers, likes, orders
    confirm_followers_above: int = Field(default=10_000_000, gt=0)


class UploadsConfig(_Strict):
    """Pictures people send, copied into <data dir>/uploads/."""

    # Free disk kept for the database: below it pictures are not copied (they stay as the
    # platform's id, which Telegram keeps and WeChat deletes after 3 days).
    min_free_mb: int = Field(default=512, ge=0)


class ExcelConfig(_Strict):
    """The notice's sheets both ways: /export and imports (python -m bot import, a .xlsx
    sent in chat)."""

    # A unit contact's export shows phone numbers (streamers', enterprises') in full; false:
    # masked (138****8000), only the committee sees them. The privacy notice says which.
    contacts_see_phones: bool = False
    # Exported files are removed by the scheduler's `exports_cleanup` job this long after
    # they were written (they hold personal data); the job runs every cleanup_every_minutes.
    keep_exports_hours: int = Field(default=24, gt=0, le=24 * 30)
    cleanup_every_minutes: int = Field(default=60, gt=0, le=24 * 60)
    # An imported registration's claim code (/start claim_CODE) is valid this long.
    claim_days: int = Field(default=60, gt=0, le=366)
    max_import_rows: int = Field(default=5000, gt=0, le=100_000)  # per workbook
    max_import_mb: int = Field(default=10, gt=0, le=20)  # Telegram lets bots fetch 20 MB
    errors_in_message: int = Field(default=30, gt=0, le=200)  # the rest: in the sheet
    # /export reports of more rows than this is written in the background: the chat is
    # answered at once and the file follows (by the outbox) when written; a step writing it
    # would hold everybody's steps meanwhile on SQLite (one step thread), and the person's.
    background_rows: int = Field(default=20_000, ge=0, le=10_000_000)


class PrivacyConfig(_Strict):
    """Retention: what the privacy notice promises. From erase_after on, the scheduler's
    `erasure` job (daily at hour:minute) erases the personal data of everyone who took part
    (phone numbers, pictures, free text, channel identities); the festival keeps only what it
    must: the names on published boards and award lists, awards, donation amounts."""

    erase_after: dt.date
    hour: int = Field(default=3, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    grace_minutes: int = Field(default=1440, ge=1)


class TelegramConfig(_Strict):
    """Telegram's delivery limits and our retry bounds (the Bot API's published limits)."""

    poll_timeout_seconds: int = Field(default=30, ge=0, le=60)  # getUpdates long polling
    connection_pool_size: int = Field(default=8, gt=0, le=1024)
    # Outbox deliveries only; direct replies are not paced (they slow down only on 429).
    global_per_second: float = Field(default=30, gt=0)
    global_burst: int = Field(default=30, gt=0)
    private_per_second: float = Field(default=1, gt=0)
    private_burst: int = Field(default=3, gt=0)
    group_per_minute: float = Field(default=20, gt=0)
    group_burst: int = Field(default=3, gt=0)
    # Network errors and 5xx: retried with exponential backoff, at most this many attempts.
    max_attempts: int = Field(default=5, gt=0, le=20)
    backoff_seconds: float = Field(default=0.5, gt=0)
    max_backoff_seconds: float = Field(default=8, gt=0)
    # A failed getUpdates is retried at once, then after this, doubling up to
    # max_backoff_seconds, with jitter: every reply waits behind the next getUpdates.
    poll_retry_seconds: float = Field(default=0.1, gt=0)
    # The largest file a bot may upload (sendDocument): 50 MB on the Bot API, up to 2000 MB
    # with a local Bot API server. A larger file is never uploaded: it goes as a signed
    # download link when the bot has a public address (PUBLIC_BASE_URL), else as a note.
    max_upload_mb: float = Field(default=50, gt=0, le=2000)
    # A 429 asking to wait longer than this goes back to the outbox instead of blocking.
    max_retry_after_seconds: int = Field(default=60, gt=0)
    outbox_interval_seconds: float = Field(default=1, gt=0)
    # Handled updates are kept this long (a webhook retry comes within minutes), then pruned.
    keep_updates_days: int = Field(default=7, ge=1, le=365)
    # Replies are recorded as sent this often (one statement for all); after a crash, the
    # replies not recorded within this many hours are sent again at start.
    answered_flush_seconds: float = Field(default=1, gt=0, le=60)
    resend_within_hours: int = Field(default=24, ge=0, le=24 * 7)
    # A step that fails is tried this many times (after step_retry_seconds, growing), then
    # answered with an apology and marked handled; a busy database keeps it for the next start.
    step_attempts: int = Field(default=3, ge=1, le=10)
    step_retry_seconds: float = Field(default=0.5, ge=0)
    # An update still unhandled after this many process starts (its step ended the process
    # each time) is answered with the apology and marked handled instead of tried again.
    replay_starts: int = Field(default=3, ge=1, le=20)


class WeChatTemplate(_Strict):
    """A template message for reminders outside the 48-hour window: each template field is
    filled from the message (first_line, rest = the other lines, text = all, date = today)."""

    template_id: str
    url: str | None = None
    fields: dict[str, Literal["first_line", "rest", "text", "date"]] = Field(min_length=1)


class WeChatSubscribe(_Strict):
    """A subscribe message (订阅通知, message/subscribe/bizsend) for reminders outside the
    48-hour window, used when no template message is configured. Each keyword of the template
    (thing1, time2, phrase3...) is filled from the message like a template's fields; the value
    is cut to what WeChat accepts for the keyword's type (thing: 20 characters...)."""

    template_id: str
    page: str | None = None  # the web page a tap opens (none: no link)
    fields: dict[str, Literal["first_line", "rest", "text", "date"]] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _keywords(
        cls, value: dict[str, Literal["first_line", "rest", "text", "date"]]
    ) -> dict[str, Literal["first_line", "rest", "text", "date"]]:
        bad = [name for name in value if not re.fullmatch(r"[a-z_]+[0-9]+", name)]
        if bad:
            raise ValueError(f"subscribe keywords look like thing1 or time2, not {bad}")
        return value


class WeChatConfig(_Strict):
    """WeChat's platform rules as we apply them (the callback, customer service, WeCom)."""

    reply_budget_seconds: float = Field(default=4, gt=0, lt=5)  # WeChat waits 5 s
    # WeChat delivers a callback at most this many times (the first and its resends); the
    # last one's reply is sent as a customer-service message, so losing it is not silence.
    callback_tries: int = Field(default=3, ge=1, le=10)
    # API calls in flight at once (each is a blocking HTTP call in a thread of its own): the
    # outbox sends to this many followers at once.
    api_threads: int = Field(default=16, ge=1, le=128)
    timestamp_window_seconds: int = Field(default=300, gt=0)  # older/newer callbacks: 403
    max_body_bytes: int = Field(default=65536, ge=1024)
    dedupe_keep_hours: int = Field(default=24, gt=0)  # resends arrive within seconds
    session_hours: int = Field(default=48, gt=0)  # the customer-service window
    messages_per_interaction: int = Field(default=20, gt=0)  # customer-service quota
    http_timeout_seconds: float = Field(default=5, gt=0)
    token_margin_seconds: int = Field(default=300, ge=0)  # refresh this long before expiry
    outbox_interval_seconds: float = Field(default=1, gt=0)
    robot_per_minute: int = Field(default=20, gt=0)  # WeCom group robots
    robot_text_max_bytes: int = Field(default=2048, gt=0)
    robot_markdown_max_bytes: int = Field(default=4096, gt=0)
    # Outside the window: the template message if configured, else the subscribe message,
    # else the message is undeliverable on WeChat (and goes to the person's other channel).
    template: WeChatTemplate | None = None
    subscribe: WeChatSubscribe | None = None
    link_code_minutes: int = Field(default=30, gt=0, le=24 * 60)  # /link's one-time code
    # /link with a wrong or expired code: at most this many per person per window (counted
    # with /join's wrong codes: one budget for guessing one-time codes).
    link_max_failed: int = Field(default=5, gt=0)
    link_failed_window_minutes: int = Field(default=60, gt=0)
    # The units' recommendation QR codes (parametric, scene rec_TOKEN): permanent ones
    # (QR_LIMIT_STR_SCENE) only for a verified service account; otherwise temporary ones of
    # qr_days (WeChat allows 30 at most), renewed qr_renew_days before they expire.
    qr_permanent: bool = False
    qr_days: int = Field(default=30, ge=1, le=30)
    qr_renew_days: int = Field(default=5, ge=1, le=29)
    # A message answered empty (its step missed the passive budget) is held for its step by
    # the worker that took it, for this long and renewed while that worker lives; every
    # worker looks for held messages whose lease ran out (a dead worker's) this often.
    pending_lease_seconds: float = Field(default=30, gt=0)
    pending_sweep_seconds: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _sweep_within_lease(self) -> WeChatConfig:
        # each lease is renewed at each sweep: a live worker's must outlast the interval
        if self.pending_sweep_seconds >= self.pending_lease_seconds:
            raise ValueError("pending_sweep_seconds must be shorter than pending_lease_seconds")
        return self


class CertificateCodes(_Strict):
    award: str = Field(default="RY", pattern=r"^[A-Za-z0-9]{1,8}$")  # 荣誉证书
    participation: str = Field(default="CY", pattern=r"^[A-Za-z0-9]{1,8}$")  # 参与证书
    donation: str = Field(default="JZ", pattern=r"^[A-Za-z0-9]{1,8}$")  # 捐赠确认函


class CertificatesConfig(_Strict):
    """The template of the certificates the committee issues (handlers/certificates.py)."""

    issuing_body: list[str] = Field(default=["点亮原产地组委会"], min_length=1, max_length=3)
    signatory: str | None = None  # printed under the issuing body as given
    date: dt.date | None = None  # None: the day they are rendered (Beijing time)
    date_style: Literal["numeric", "chinese"] = "numeric"  # 2020年12月10日 / 二〇二〇年十二月十日
    seal_image: Path | None = None  # None: a grey 样章 placeholder mark (rehearsal)
    number_format: str = "DLYCD{year}-{code}-{serial:05d}"
    number_codes: CertificateCodes = CertificateCodes()
    donation_recipient: str = "江西希望工程（江西省青少年发展基金会）"
    png_dpi: int = Field(default=150, ge=72, le=600)
    png_compress_level: int = Field(default=1, ge=0, le=9)
    # the title the committee may give among the winning streamers, printed on their award
    ambassador_title: str = "江西青年电商扶贫大使"
    # /certificates renders in the chat step up to this many; more: `python -m bot
    # certificates OUTDIR` on the server (a step must not hold a worker for minutes)
    chat_limit: int = Field(default=200, ge=0, le=5000)
    # more than chat_limit: drawn in the background by the scheduler's looks for work, in
    # batches of this many (each committed with its progress), for up to work_seconds per look
    batch_size: int = Field(default=50, ge=1, le=2000)
    work_seconds: float = Field(default=30, gt=0, le=600)
    # the requester is told the progress at every this many percent, and when it is done
    progress_percent: int = Field(default=25, ge=1, le=100)
    # the ZIP is attached to the message that says it is done up to this size (Telegram bots
    # send files up to 50 MB); a larger one is named by its place on the server
    attach_zip_max_mb: float = Field(default=45, ge=0, le=2000)
    # where they are written, under the bot's data folder (the only folder links may name)
    folder: str = Field(default="certificates", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    # how long a WeChat follower's download link to a certificate's PDF works
    link_hours: float = Field(default=72, gt=0, le=24 * 30)

    @field_validator("number_format")
    @classmethod
    def _formats(cls, value: str) -> str:
        if "{serial" not in value:
            raise ValueError("number_format must contain {serial}")
        try:
            number = value.format(year=2020, code="RY", serial=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"number_format cannot be filled ({exc}); use year, code, serial"
            ) from exc
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,40}", number):
            raise ValueError(f"a certificate number must be letters, digits, - and _: {number!r}")
        return value

    @field_validator("seal_image")
    @classmethod
    def _seal_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"seal image not found: {value}")
        return value


class WorkersConfig(_Strict):
    """Several bot processes on one PostgreSQL (BOT_WORKERS=shared): how they coordinate."""

    # connections each worker keeps for the persons' turns (a PostgreSQL advisory lock is held
    # on one for as long as a person's message is handled and answered)
    lock_connections: int = Field(default=16, gt=0, le=1000)
    # how often a worker that is not the leader tries to become it (scheduler, outbox, polling)
    leader_retry_seconds: float = Field(default=2.0, gt=0, le=300)
    # a stored update nobody has handled this long (its worker died) is taken by another
    orphan_after_seconds: float = Field(default=20.0, gt=0, le=3600)
    # how often each worker reads the chats Telegram asked the bot to leave alone (a 429 one
    # worker got): within this, no worker sends into another's pause
    pause_poll_seconds: float = Field(default=1.0, gt=0, le=60)


class FestivalConfig(_Strict):
    festival: FestivalInfo
    locale: LocaleConfig = LocaleConfig()
    calendar: Calendar
    units: UnitsConfig
    eligibility: Eligibility
    revenue: Revenue
    awards: Awards
    scoring: Scoring = Scoring()
    leaderboard: Leaderboard = Leaderboard()
    schedule: Schedule | None = None  # no section: the scheduler has no jobs
    reports: Reports = Reports()
    trust: Trust = Trust()
    turnover: TurnoverConfig
    audit: AuditConfig = AuditConfig()
    products: Products
    platforms: list[Platform] = Field(min_length=1)
    committee: Committee = Committee()
    group_chats: list[GroupChat] = []
    conversation: ConversationConfig = ConversationConfig()
    plausibility: PlausibilityConfig = PlausibilityConfig()
    uploads: UploadsConfig = UploadsConfig()
    excel: ExcelConfig = ExcelConfig()
    telegram: TelegramConfig = TelegramConfig()
    wechat: WeChatConfig = WeChatConfig()
    workers: WorkersConfig = WorkersConfig()
    certificates: CertificatesConfig = CertificatesConfig()
    privacy: PrivacyConfig | None = None  # no section: nothing is erased by date (/forget works)

    @model_validator(mode="after")
    def _erase_after_the_festival(self) -> FestivalConfig:
        if self.privacy is not None and not self.calendar.feedback_deadline < (
            self.privacy.erase_after
        ):
            raise ValueError(
                "privacy.erase_after must be after calendar.feedback_deadline "
                f"({self.calendar.feedback_deadline}): awards and donations are settled first"
            )
        return self

    def platform_questions(self) -> frozenset[str]:
        """The questions asked only of streamers on a platform that names them."""
        return frozenset(q for p in self.platforms for q in p.asks)

    def platform_label(self, key: str, locale: str | None = None) -> str:
        return next((p.label_in(locale) for p in self.platforms if p.key == key), key)

    def category_label(self, stored: str, locale: str | None = None) -> str:
        """A stored category (its Chinese label) as the reader reads it."""
        found = (c for c in self.products.categories if c.label == stored)
        return next((c.label_in(locale) for c in found), stored)

    def tag_label(self, key: str, locale: str | None = None) -> str:
        return next((t.label_in(locale) for t in self.products.priority_tags if t.key == key), key)

    def award_label(self, kind: str, key: str, locale: str | None = None) -> str:
        """A tier of `awards.streamer` (kind "streamer") or `awards.enterprise`."""
        tiers: list[StreamerAward] | list[EnterpriseAward] = (
            self.awards.streamer if kind == "streamer" else self.awards.enterprise
        )
        return next((a.label_in(locale) for a in tiers if a.key == key), key)

    def unit_kind_label(self, kind: str, locale: str | None = None) -> str:
        found = self.units.kinds.get(kind)  # type: ignore[call-overload]
        return found.label_in(locale) if found is not None else kind


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{path}: {err['msg']}")
    return "; ".join(lines)


def parse_config(data: object, source: str = "config") -> FestivalConfig:
    try:
        return FestivalConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from exc


class _ConfigLoader(yaml.SafeLoader):
    """YAML without its own dates: they stay text and pydantic reads them, so an impossible
    one (2020-11-31, 25:00) is reported with the setting's name instead of a traceback from
    inside PyYAML."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: str | Path) -> FestivalConfig:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{line} ({problem})") from exc
    return parse_config(data, str(path))
