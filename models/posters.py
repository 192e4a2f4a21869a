"""The WeChat parametric QR codes of the units' recommendation links (scene `rec_TOKEN`): one
current code per unit, temporary (renewed before it expires) or permanent, with the picture
WeChat drew for it kept on our disk."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin


class WeChatQrCode(IdMixin, Base):
    __tablename__ = "wechat_qr_codes"

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), unique=True)
    scene: Mapped[str] = mapped_column(String(64))  # rec_TOKEN: what a scan hands the bot
    ticket: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(300))  # what the code encodes (weixin.qq.com/q/...)
    permanent: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[dt.datetime | None]  # None: permanent
    image_path: Mapped[str | None] = mapped_column(String(300))  # WeChat's picture, our copy
    created_at: Mapped[dt.datetime]


def qr_of_unit(session: Session, unit_id: int) -> WeChatQrCode | None:
    return session.scalars(select(WeChatQrCode).where(WeChatQrCode.unit_id == unit_id)).first()


def expiring(session: Session, before: dt.datetime) -> list[WeChatQrCode]:
    """Temporary codes that expire before `before`, by unit."""
    return list(
        session.scalars(
            select(WeChatQrCode)
            .where(WeChatQrCode.permanent.is_(False), WeChatQrCode.expires_at < before)
            .order_by(WeChatQrCode.unit_id)
        )
    )


def all_codes(session: Session) -> list[WeChatQrCode]:
    return list(session.scalars(select(WeChatQrCode).order_by(WeChatQrCode.unit_id)))
