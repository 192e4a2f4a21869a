"""Tables, queries and the festival's pure rules. Imports nothing of bot/ or handlers/."""

from models.base import Base, ReviewStatus
from models.committee import GroupSubscription, Invitation, JoinAttempt
from models.enterprises import Enterprise, Product
from models.outbox import OutboxMessage, OutboxStatus
from models.people import AuditEntry, DialogState, Identity, Person, Role
from models.streamers import DailyReport, LiveAccount, Streamer
from models.units import Unit

__all__ = [
    "AuditEntry",
    "Base",
    "DailyReport",
    "DialogState",
    "Enterprise",
    "GroupSubscription",
    "Identity",
    "Invitation",
    "JoinAttempt",
    "LiveAccount",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Product",
    "ReviewStatus",
    "Role",
    "Streamer",
    "Unit",
]
