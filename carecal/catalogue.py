"""The activity catalogue at work: the label of a key in a language, and the language a
volunteer's calendar is written in.

Whatever leaves the office (calendar feeds, proofs of service, invoices, auditors' files)
names an activity by its catalogue label, never by text typed for one client or one
visit: a request and a visit record hold a catalogue key; the office's own words go into
their `note`, which nothing outside the office reads. Every entry has a German label
(proofs and invoices are German); the catalogue "has" a language when every entry has a
label in it. The catalogue is imported with the organisation (data/organisation.json).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal.errors import NotFound
from carecal.feeds.i18n import LANGUAGES
from carecal.models import Activity, ActivityCategory

GERMAN = "de"


@dataclass(frozen=True)
class Catalogue:
    """Activities (key -> labels), the category of each, and the categories' labels."""

    activities: Mapping[str, Mapping[str, str]]
    category_of: Mapping[str, str | None]
    categories: Mapping[str, Mapping[str, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages every activity and category has a label in, German first."""
        entries = [*self.activities.values(), *self.categories.values()]
        return tuple(code for code in LANGUAGES if all(code in labels for labels in entries))

    def label(self, key: str, language: str = GERMAN) -> str:
        """The activity's label in `language`, else its German one."""
        if key not in self.activities:
            raise _unknown(key)
        return label_in(self.activities[key], language)

    def category_label(self, category: str, language: str = GERMAN) -> str:
        """The label of a service category (e.g. betreuung) in `language`, else German; the
        key itself when the catalogue does not name it."""
        labels = self.categories.get(category)
        return label_in(labels, language) if labels else category


def label_in(labels: Mapping[str, str], language: str = GERMAN) -> str:
    """The label in `language` from an entry's labels, else the German one."""
    return labels.get(language) or labels[GERMAN]


def _unknown(key: str) -> NotFound:
    return NotFound(f"activity {key!r} is not in the catalogue (see data/README.md: activities)")


def load(session: Session) -> Catalogue:
    activities = session.scalars(select(Activity).order_by(Activity.key)).all()
    categories = session.scalars(select(ActivityCategory).order_by(ActivityCategory.key)).all()
    return Catalogue(
        activities={a.key: dict(a.labels) for a in activities},
        category_of={a.key: a.category_key for a in activities},
        categories={c.key: dict(c.labels) for c in categories},
    )


def label(session: Session, key: str, language: str = GERMAN) -> str:
    """The label of activity `key` in `language` (German when the catalogue lacks it)."""
    activity = session.scalars(select(Activity).where(Activity.key == key)).one_or_none()
    if activity is None:
        raise _unknown(key)
    return label_in(activity.labels, language)


def feed_language(chosen: str | None, spoken: Sequence[str], catalogue_languages: Sequence[str]) -> str:
    """The language of a volunteer's calendar: the one they chose, else the first language
    they speak that the catalogue has (a Russian-only volunteer reads Russian), else German."""
    if chosen in LANGUAGES:
        return chosen
    return next((code for code in spoken if code in catalogue_languages), GERMAN)
