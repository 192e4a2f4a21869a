"""Tables, queries and the festival's pure rules. Imports nothing of bot/ or handlers/."""

from models import trust  # noqa: F401  (its held-reports index belongs to the schema)
from models.announcements import Announcement
from models.audits import ReportAudit
from models.awards import AmbassadorMark, AwardEntry, AwardList, Certificate, UnitPublicity
from models.base import Base, ReviewStatus
from models.board import Board, BoardEntry
from models.certificate_runs import CertificateRun, CertificateRunItem
from models.committee import GroupSubscription, Invitation, JoinAttempt
from models.donations import (
    DonationCertificate,
    DonationDirection,
    DonationPayment,
    Turnover,
    TurnoverStatus,
)
from models.enterprises import Enterprise, Product
from models.erased_marks import ErasedMark
from models.feedback import Feedback
from models.imports import SheetImport
from models.job_runs import JobRun
from models.outbox import OutboxMessage, OutboxStatus
from models.people import AuditEntry, DialogState, Identity, Person, Role
from models.picks import ProductPick, ReportProductSale
from models.posters import WeChatQrCode
from models.send_pauses import SendPause
from models.streamers import DailyReport, LiveAccount, Streamer
from models.telegram import TelegramUpdate
from models.telegram_shown import TelegramShown
from models.totals import StreamerDayTotal, StreamerTotal
from models.units import Unit
from models.wechat import LinkCode, WeChatFollower, WeChatInbound, WeChatToken

__all__ = [
    "AmbassadorMark",
    "Announcement",
    "AuditEntry",
    "AwardEntry",
    "AwardList",
    "Base",
    "Board",
    "BoardEntry",
    "Certificate",
    "CertificateRun",
    "CertificateRunItem",
    "DailyReport",
    "DialogState",
    "DonationCertificate",
    "DonationDirection",
    "DonationPayment",
    "Enterprise",
    "ErasedMark",
    "Feedback",
    "GroupSubscription",
    "Identity",
    "Invitation",
    "JobRun",
    "JoinAttempt",
    "LinkCode",
    "LiveAccount",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Product",
    "ProductPick",
    "ReportAudit",
    "ReportProductSale",
    "ReviewStatus",
    "Role",
    "SendPause",
    "SheetImport",
    "Streamer",
    "StreamerDayTotal",
    "StreamerTotal",
    "TelegramShown",
    "TelegramUpdate",
    "Turnover",
    "TurnoverStatus",
    "Unit",
    "UnitPublicity",
    "WeChatFollower",
    "WeChatInbound",
    "WeChatQrCode",
    "WeChatToken",
]
