"""How one spreadsheet cell becomes a value and back.

Each codec parses the text of a cell (already stripped; "" means empty) into a canonical
Python value and formats such a value back into the text an export writes, so that
`parse(format(v)) == v`. A bad cell raises ValueError with a reason a coordinator can act on;
the caller adds file, row and column (and masks health data).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from schwifty import IBAN, exceptions
from schwifty.exceptions import SchwiftyException

from carecal.models import GENDERS, TRAVEL_MODES, WEEKDAYS
from carecal.privacy import mask_iban
from carecal.weeks import DEFAULT_TZ, local

# ISO 639-1: every two-letter language code.
ISO_639_1 = frozenset(
    [
        "aa",
        "ab",
        "ae",
        "af",
        "ak",
        "am",
        "an",
        "ar",
        "as",
        "av",
        "ay",
        "az",
        "ba",
        "be",
        "bg",
        "bi",
        "bm",
        "bn",
        "bo",
        "br",
        "bs",
        "ca",
        "ce",
        "ch",
        "co",
        "cr",
        "cs",
        "cu",
        "cv",
        "cy",
        "da",
        "de",
        "dv",
        "dz",
        "ee",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fa",
        "ff",
        "fi",
        "fj",
        "fo",
        "fr",
        "fy",
        "ga",
        "gd",
        "gl",
        "gn",
        "gu",
        "gv",
        "ha",
        "he",
        "hi",
        "ho",
        "hr",
        "ht",
        "hu",
        "hy",
        "hz",
        "ia",
        "id",
        "ie",
        "ig",
        "ii",
        "ik",
        "io",
        "is",
        "it",
        "iu",
        "ja",
        "jv",
        "ka",
        "kg",
        "ki",
        "kj",
        "kk",
        "kl",
        "km",
        "kn",
        "ko",
        "kr",
        "ks",
        "ku",
        "kv",
        "kw",
        "ky",
        "la",
        "lb",
        "lg",
        "li",
        "ln",
        "lo",
        "lt",
        "lu",
        "lv",
        "mg",
        "mh",
        "mi",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "na",
        "nb",
        "nd",
        "ne",
        "ng",
        "nl",
        "nn",
        "no",
        "nr",
        "nv",
        "ny",
        "oc",
        "oj",
        "om",
        "or",
        "os",
        "pa",
        "pi",
        "pl",
        "ps",
        "pt",
        "qu",
        "rm",
        "rn",
        "ro",
        "ru",
        "rw",
        "sa",
        "sc",
        "sd",
        "se",
        "sg",
        "si",
        "sk",
        "sl",
        "sm",
        "sn",
        "so",
        "sq",
        "sr",
        "ss",
        "st",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "ti",
        "tk",
        "tl",
        "tn",
        "to",
        "tr",
        "ts",
        "tt",
        "tw",
        "ty",
        "ug",
        "uk",
        "ur",
        "uz",
        "ve",
        "vi",
        "vo",
        "wa",
        "wo",
        "xh",
        "yi",
        "yo",
        "za",
        "zh",
        "zu",
    ]
)

LIST_SEPARATOR = re.compile(r"\s*[;,]\s*")
TRUE_WORDS = {"yes", "y", "true", "1", "x", "ja", "j"}
FALSE_WORDS = {"no", "n", "false", "0", "nein"}


def split_list(text: str) -> list[str]:
    return [part for part in LIST_SEPARATOR.split(text) if part]


class Codec:
    """Base: `parse` text → value, `format` value → text. `empty` is the value of an empty cell."""

    empty: object = None
    example = ""

    def parse(self, text: str):
        raise NotImplementedError

    def format(self, value) -> str:
        return "" if value is None else str(value)


@dataclass(frozen=True)
class Text(Codec):
    max_length: int = 200
    pattern: str | None = None
    pattern_hint: str = ""

    def parse(self, text: str) -> str:
        if len(text) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(self.pattern_hint or f"does not match {self.pattern}")
        return text


@dataclass(frozen=True)
class Postcode(Codec):
    """Five digits, 01001 to 99998. A spreadsheet that took 09111 for a number shows 9111:
    that zero is restored; a typed `0911` is a digit short, not a number, and is refused."""

    def parse(self, text: str) -> str:
        if text.isascii() and text.isdigit() and len(text) == 4 and not text.startswith("0"):
            text = "0" + text
        if not (text.isascii() and text.isdigit() and len(text) == 5) or text.startswith("00"):
            raise ValueError("not a German postcode of 5 digits")
        return text


@dataclass(frozen=True)
class Integer(Codec):
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError("not a whole number") from None
        _check_range(value, self.minimum, self.maximum)
        return value


@dataclass(frozen=True)
class Number(Codec):
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, text: str) -> float:
        try:
            value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
        except ValueError:
            raise ValueError("not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a number")
        _check_range(value, self.minimum, self.maximum)
        return value

    def format(self, value) -> str:
        if value is None:
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_range(value, minimum, maximum) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"above the maximum {maximum}")


@dataclass(frozen=True)
class Boolean(Codec):
    def parse(self, text: str) -> bool:
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("not yes or no")

    def format(self, value) -> str:
        return "" if value is None else ("yes" if value else "no")


@dataclass(frozen=True)
class Choice(Codec):
    choices: tuple[str, ...]

    def parse(self, text: str) -> str:
        word = text.lower()
        if word not in self.choices:
            raise ValueError(f"not one of {', '.join(self.choices)}")
        return word


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-23") from None


@dataclass(frozen=True)
class Date(Codec):
    earliest: date = date(1900, 1, 1)
    latest: date = date(2100, 12, 31)

    def parse(self, text: str) -> date:
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise ValueError("not a date like 2026-11-23") from None
        if not self.earliest <= value <= self.latest:
            raise ValueError(f"not between {self.earliest} and {self.latest}")
        return value

    def format(self, value) -> str:
        return "" if value is None else value.isoformat()


@dataclass(frozen=True)
class Languages(Codec):
    """`ru; de`: ISO 639-1 codes in order of preference (a client's first is the mother tongue)."""

    empty = ()
    example = "ru; de"

    def parse(self, text: str) -> tuple[str, ...]:
        codes = [code.lower() for code in split_list(text)]
        unknown = [code for code in codes if code not in ISO_639_1]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not an ISO 639-1 language code (like ru, uk, de)")
        if len(set(codes)) != len(codes):
            raise ValueError("a language is listed twice")
        return tuple(codes)

    def format(self, value) -> str:
        return "; ".join(value or ())


@dataclass(frozen=True)
class Reminders(Codec):
    """`1d@18:00; 1h`: when the volunteer's calendar reminds them (carecal.feeds.reminders);
    `none` for no reminders; empty for the default."""

    example = "1d@18:00; 1h"

    def parse(self, text: str) -> tuple[str, ...]:
        from carecal.feeds.reminders import parse

        return parse(text)

    def format(self, value) -> str:
        if value is None:
            return ""
        return "; ".join(value) if value else "none"


_WINDOW = re.compile(r"^(?P<day>[a-z]{3})\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


def parse_clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 14:00") from None


def clock(value: time) -> str:
    return value.strftime("%H:%M")


@dataclass(frozen=True)
class Windows(Codec):
    """`mon 09:00-13:00; wed 14:00-18:00`: weekly windows in local time, sorted."""

    empty = ()
    example = "mon 09:00-13:00; wed 14:00-18:00"

    def parse(self, text: str) -> tuple[tuple[str, time, time], ...]:
        windows = []
        for part in split_list(text):
            match = _WINDOW.match(part.lower())
            if not match or match["day"] not in WEEKDAYS:
                raise ValueError(f"{part!r} is not a window like 'tue 13:00-18:00' (days mon..sun)")
            start, end = parse_clock(match["start"]), parse_clock(match["end"])
            if start >= end:
                raise ValueError(f"{part!r}: the window must start before it ends")
            windows.append((match["day"], start, end))
        windows.sort(key=lambda w: (WEEKDAYS.index(w[0]), w[1]))
        for (day_a, _, end_a), (day_b, start_b, _) in pairwise(windows):
            if day_a == day_b and start_b < end_a:
                raise ValueError(f"two windows on {day_a} overlap")
        return tuple(windows)

    def format(self, value) -> str:
        return "; ".join(f"{day} {clock(start)}-{clock(end)}" for day, start, end in value or ())


TRAINING_KINDS = ("basic", "dementia")


@dataclass(frozen=True)
class Trainings(Codec):
    """`basic:2024-03-01:2026-02-28; dementia:2025-01-10:`: kind, completed on, expires on (empty: never)."""

    empty = ()
    example = "basic:2024-03-01:2026-02-28; dementia:2025-01-10:"

    def parse(self, text: str) -> tuple[tuple[str, date, date | None], ...]:
        trainings = []
        for part in split_list(text):
            pieces = [p.strip() for p in part.split(":")]
            if len(pieces) not in (2, 3) or pieces[0].lower() not in TRAINING_KINDS:
                raise ValueError(
                    f"{part!r} is not like 'basic:2024-03-01:2026-02-28' (kinds: {', '.join(TRAINING_KINDS)})"
                )
            completed = parse_date(pieces[1])
            expires = parse_date(pieces[2]) if len(pieces) == 3 and pieces[2] else None
            if expires is not None and expires < completed:
                raise ValueError(f"{part!r}: expires before it was completed")
            trainings.append((pieces[0].lower(), completed, expires))
        return tuple(sorted(trainings, key=lambda t: (t[1], t[0], t[2] or date.max)))

    def format(self, value) -> str:
        return "; ".join(
            f"{kind}:{done.isoformat()}:{expires.isoformat() if expires else ''}" for kind, done, expires in value or ()
        )


@dataclass(frozen=True)
class Periods(Codec):
    """Absences and times away, in local time:
    `2026-11-23..2026-11-27` (whole days, both included), `2026-11-24` (one day),
    `2026-11-24 08:00-12:00` (part of a day), `2026-11-24 08:00..2026-11-26 12:00`.
    Values are (start, end) pairs of aware UTC datetimes, end exclusive."""

    tz: str = DEFAULT_TZ
    empty = ()
    example = "2026-11-23..2026-11-27; 2026-12-02 08:00-12:00"

    def parse(self, text: str) -> tuple[tuple[datetime, datetime], ...]:
        periods = sorted(self._one(part) for part in split_list(text))
        for (_, end_a), (start_b, _) in pairwise(periods):
            if start_b < end_a:
                raise ValueError("two periods overlap")
        return tuple(periods)

    def _one(self, part: str) -> tuple[datetime, datetime]:
        try:
            if ".." in part:
                first, last = (p.strip() for p in part.split(".."))
                if " " in first or " " in last:
                    start, end = self._instant(first), self._instant(last)
                else:
                    start, end = (
                        self._day_start(parse_date(first)),
                        self._day_start(parse_date(last) + timedelta(days=1)),
                    )
            elif " " in part:
                day_text, _, hours = part.partition(" ")
                from_text, _, to_text = hours.strip().partition("-")
                day = parse_date(day_text)
                start = self._utc(local(day, parse_clock(from_text.strip()), self.tz))
                end = self._utc(local(day, parse_clock(to_text.strip()), self.tz))
            else:
                day = parse_date(part)
                start, end = self._day_start(day), self._day_start(day + timedelta(days=1))
        except ValueError as error:
            raise ValueError(
                f"{part!r} is not a period like '2026-11-23..2026-11-27' or '2026-11-24 08:00-12:00' ({error})"
            ) from None
        if start >= end:
            raise ValueError(f"{part!r}: the period must start before it ends")
        return start, end

    def _instant(self, text: str) -> datetime:
        day_text, _, clock_text = text.partition(" ")
        return self._utc(local(parse_date(day_text), parse_clock(clock_text.strip()), self.tz))

    def _day_start(self, day: date) -> datetime:
        return self._utc(local(day, time(0), self.tz))

    @staticmethod
    def _utc(moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def format(self, value) -> str:
        return "; ".join(self._format_one(start, end) for start, end in value or ())

    def _format_one(self, start: datetime, end: datetime) -> str:
        zone = ZoneInfo(self.tz)
        start_local, end_local = start.astimezone(zone), end.astimezone(zone)
        midnight = time(0)
        if start_local.time() == midnight and end_local.time() == midnight:
            last_day = end_local.date() - timedelta(days=1)
            if last_day == start_local.date():
                return start_local.date().isoformat()
            return f"{start_local.date().isoformat()}..{last_day.isoformat()}"
        if start_local.date() == end_local.date():
            return f"{start_local.date().isoformat()} {clock(start_local.time())}-{clock(end_local.time())}"
        return (
            f"{start_local.date().isoformat()} {clock(start_local.time())}.."
            f"{end_local.date().isoformat()} {clock(end_local.time())}"
        )


EXCLUSION_KINDS = ("relative", "household", "client_wish")


@dataclass(frozen=True)
class Exclusions(Codec):
    """`c017:relative; c042:household`: clients this volunteer must not visit, and why."""

    empty = ()
    example = "c017:relative; c042:household"

    def parse(self, text: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for part in split_list(text):
            client_id, _, kind = (p.strip() for p in part.partition(":"))
            kind = kind.lower()
            if not client_id or kind not in EXCLUSION_KINDS:
                raise ValueError(f"{part!r} is not like 'c017:relative' (kinds: {', '.join(EXCLUSION_KINDS)})")
            pairs.append((client_id, kind))
        if len({client_id for client_id, _ in pairs}) != len(pairs):
            raise ValueError("a client is listed twice")
        return tuple(sorted(pairs))

    def format(self, value) -> str:
        return "; ".join(f"{client_id}:{kind}" for client_id, kind in value or ())


@dataclass(frozen=True)
class CareGrades(Codec):
    """`2:2023-04-01; 3:2025-02-01`: Pflegegrad 1-5 and the date from which it applies."""

    empty = ()
    example = "2:2023-04-01; 3:2025-02-01"

    def parse(self, text: str) -> tuple[tuple[int, date], ...]:
        grades = []
        for part in split_list(text):
            grade_text, _, since = (p.strip() for p in part.partition(":"))
            if grade_text not in ("1", "2", "3", "4", "5") or not since:
                raise ValueError("an entry is not like 3:2024-01-01 (care grade 1-5, then the date it applies from)")
            try:
                grades.append((int(grade_text), date.fromisoformat(since)))
            except ValueError:
                raise ValueError("an entry's valid-from is not a date like 2024-01-01") from None
        if len({since for _, since in grades}) != len(grades):
            raise ValueError("two care grades start on the same day")
        return tuple(sorted(grades, key=lambda g: g[1]))

    def format(self, value) -> str:
        return "; ".join(f"{grade}:{since.isoformat()}" for grade, since in value or ())


def iban(text: str) -> str:
    """An IBAN in its compact form ('DE89 3704 0044 0532 0130 00' → 'DE89370400440532013000'),
    checked: a country that has IBANs, that country's length and layout, the check digits,
    and a country of the SEPA area (a transfer file can pay nothing else)."""
    try:
        account = IBAN(text)
    except SchwiftyException as error:
        # in our words: the library's would quote the IBAN, which no message may show
        raise ValueError(f"not a valid IBAN: {_IBAN_PROBLEMS.get(type(error), 'not in the form of an IBAN')}") from None
    if not account.in_sepa_zone:
        raise ValueError(f"an IBAN of {account.country_code}, outside the SEPA area: no SEPA transfer reaches it")
    return account.compact


_IBAN_PROBLEMS = {
    exceptions.InvalidChecksumDigits: "its check digits do not match (a typing error?)",
    exceptions.InvalidLength: "it is too short or too long for its country",
    exceptions.InvalidCountryCode: "it does not start with the code of a country that has IBANs",
    exceptions.InvalidStructure: "its letters and digits do not follow its country's layout",
}


@dataclass(frozen=True)
class Iban(Codec):
    """A volunteer's IBAN (any spacing). An export shows it masked ('DE89 **** 3000'); a
    masked cell read back means "as on file" (`MaskedIban`), checked against the IBAN on file."""

    example = "DE89 3704 0044 0532 0130 00"

    def parse(self, text: str) -> str:
        if "*" in text:
            return MaskedIban(" ".join(text.split()))
        return iban(text)

    def format(self, value) -> str:
        return "" if value is None else mask_iban(value)


class MaskedIban(str):
    """A masked IBAN read from a file: it stands for the IBAN on file that masks to it."""


Gender = Choice(GENDERS)
TravelMode = Choice(TRAVEL_MODES)
