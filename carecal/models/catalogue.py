"""The organisation's activity catalogue: what a visit is for, named by a key, with a
label in each language the catalogue has (imported from the organisation's data).

Feeds, proofs of service and invoices show these labels, never text typed for one client:
the vocabulary is small, reviewed once, and the same for everybody.
"""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base


class ActivityCategory(Base):
    """A group of activities; its key is the service category of the price list
    (`price_per_hour` rates), e.g. betreuung, alltagsbegleitung."""

    __tablename__ = "activity_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    labels: Mapped[dict] = mapped_column(doc='language -> label, e.g. {"de": "Betreuung", "ru": "..."}')


class Activity(Base):
    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    category_key: Mapped[str | None] = mapped_column(ForeignKey("activity_category.key"))
    labels: Mapped[dict] = mapped_column(doc='language -> label, e.g. {"de": "Vorlesen", "ru": "Чтение вслух"}')

    category: Mapped[ActivityCategory | None] = relationship()
