"""The documented column layout of the import and export files, one list of columns per kind.

A column's name is the header cell in the file. The order here is the order an export
writes; an import accepts the columns in any order, and optional columns may be left out.
Which columns hold health data or the office's notes (never echoed in an error) is decided
in carecal.privacy, by column name.
"""

from dataclasses import dataclass, field

from carecal.feeds.i18n import LANGUAGES
from carecal.masterdata import codecs as c

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
ID = c.Text(40, ID_PATTERN, "not an id of letters, digits, '-', '_' or '.'")


@dataclass(frozen=True)
class Column:
    name: str
    codec: c.Codec
    help: str
    required: bool = False
    default: object = None

    @property
    def empty(self):
        return self.default if self.default is not None else self.codec.empty


@dataclass(frozen=True)
class Layout:
    kind: str  # volunteers | clients | requests
    columns: tuple[Column, ...]
    title: str
    references: str = ""  # what other kind this one's ids point to (import that first)
    by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {col.name: col for col in self.columns})

    @property
    def names(self) -> list[str]:
        return [col.name for col in self.columns]


LAT = c.Number(-90, 90)
LON = c.Number(-180, 180)
POSTCODE = c.Postcode()
PHONE = c.Text(50, r"[0-9+()/ .-]+", "not a phone number (digits, spaces, + ( ) / - .)")
EMAIL = c.Text(200, r"[^@\s]+@[^@\s]+\.[^@\s]+", "not an e-mail address")
IK = c.Text(9, r"\d{9}", "not an Institutionskennzeichen of 9 digits")

COMMON_HOME = (
    Column("street", c.Text(200), "street and house number"),
    Column("postcode", POSTCODE, "5 digits"),
    Column(
        "district",
        c.Text(60),
        "Chemnitz district (Stadtteil) as in solver/data/chemnitz_districts.json; "
        "its centre is used when lat/lon are empty",
    ),
    Column("lat", LAT, "latitude of the home (WGS84); empty together with lon: the district's centre"),
    Column("lon", LON, "longitude of the home (WGS84)"),
)

VOLUNTEERS = Layout(
    "volunteers",
    title="Volunteers",
    references="clients",
    columns=(
        Column("external_id", ID, "the association's own id, e.g. v007: the key for re-imports", required=True),
        Column("active", c.Boolean(), "yes or no; an inactive volunteer is not planned", default=True),
        Column("first_name", c.Text(100), "", required=True),
        Column("last_name", c.Text(100), "", required=True),
        Column("gender", c.Gender, "f, m or d", required=True),
        Column("phone", PHONE, ""),
        Column("email", EMAIL, ""),
        *COMMON_HOME,
        Column("languages", c.Languages(), "ISO 639-1 codes, best first, e.g. 'ru; de'", required=True),
        Column(
            "ui_language",
            c.Choice(LANGUAGES),
            "language of their calendar: de, ru, uk or en; empty: their first language the activity catalogue has",
        ),
        Column(
            "reminders",
            c.Reminders(),
            "calendar reminders: times before a visit (30m, 1h) or a day and time (1d@18:00 = the day before at "
            "18:00), e.g. '1d@18:00; 1h'; 'none' for none; empty: the evening before and one hour before",
        ),
        Column("travel_mode", c.TravelMode, "walk, bike, transit or car", required=True),
        Column("max_km", c.Number(0.5, 100), "longest one-way trip in km", required=True),
        Column("max_minutes_per_week", c.Integer(0, 3000), "visit minutes per week at most", required=True),
        Column("max_visits_per_day", c.Integer(1, 10), "visits per day at most", default=3),
        Column("availability", c.Windows(), "weekly windows in local time, e.g. 'mon 09:00-13:00; wed 14:00-18:00'"),
        Column(
            "trainings",
            c.Trainings(),
            "kind:completed:expires, e.g. 'basic:2024-03-01:2026-02-28; "
            "dementia:2025-01-10:' (empty expiry: does not lapse; kinds basic, dementia)",
        ),
        Column("absences", c.Periods(), "e.g. '2026-11-23..2026-11-27' (whole days) or '2026-11-24 08:00-12:00'"),
        Column(
            "must_not_visit",
            c.Exclusions(),
            "client ids with the reason: relative, household or client_wish, e.g. 'c017:relative; c042:household'",
        ),
        Column(
            "iban",
            c.Iban(),
            "the account the allowance is paid to, e.g. 'DE89 3704 0044 0532 0130 00' (checked; a SEPA country); "
            "an export shows it masked, and a masked cell read back keeps the IBAN on file",
        ),
        Column("account_holder", c.Text(70), "the name on that account, when it is not the volunteer's own"),
        Column(
            "allowance_limit",
            c.Choice(("3_26", "3_26a")),
            "the allowance's yearly tax-free limit: 3_26 (§ 3 Nr. 26 EStG, care of older people) or 3_26a "
            "(§ 3 Nr. 26a)",
            default="3_26",
        ),
    ),
)

CLIENTS = Layout(
    "clients",
    title="Clients",
    columns=(
        Column("external_id", ID, "the association's own id, e.g. c017: the key for re-imports", required=True),
        Column("active", c.Boolean(), "yes or no; an inactive client gets no visits", default=True),
        Column("first_name", c.Text(100), "", required=True),
        Column("last_name", c.Text(100), "", required=True),
        Column(
            "date_of_birth",
            c.Date(),
            "YYYY-MM-DD (health-related: never shown in error messages)",
            required=True,
        ),
        Column("phone", PHONE, ""),
        *COMMON_HOME,
        Column(
            "languages", c.Languages(), "ISO 639-1 codes; the first is the mother tongue, e.g. 'uk; ru'", required=True
        ),
        Column("dementia", c.Boolean(), "yes or no", default=False),
        Column(
            "care_grades",
            c.CareGrades(),
            "Pflegegrad and the date it applies from, e.g. '2:2023-04-01; 3:2025-02-01'",
        ),
        Column(
            "gender_preference", c.Gender, "f, m or d when the client wishes a visitor of that gender; empty: no wish"
        ),
        Column(
            "max_visits_per_day",
            c.Integer(1, 10),
            "visits on one day at most (two visits of a twice-weekly series never on one day)",
            default=1,
        ),
        Column("insurer_name", c.Text(200), "the care insurer (Pflegekasse)"),
        Column("insurer_ik", IK, "the insurer's 9-digit IK"),
        Column(
            "insurance_number",
            c.Text(20, r"[A-Z][0-9]{9}", "not an insurance number like A123456789"),
            "Versichertennummer, a letter and 9 digits",
        ),
        Column("representative_name", c.Text(200), "legal representative or the relative who signs"),
        Column("representative_contact", c.Text(200), "phone or e-mail of the representative"),
        Column("consent_recorded_on", c.Date(), "date the consent to data processing was recorded"),
        Column(
            "benefits_assigned_on",
            c.Date(),
            "date of the signed assignment of benefits (Abtretungserklärung): then the insurer is billed directly",
        ),
        Column(
            "conversion_budget_opt_in",
            c.Boolean(),
            "yes: §45a(4) conversion budget may be used (needs care grade 2 or higher)",
            default=False,
        ),
        Column(
            "family_feed_opt_in", c.Boolean(), "yes: relatives may subscribe to a calendar of the visits", default=False
        ),
        Column("lives_at_home", c.Boolean(), "", default=True),
        Column("away", c.Periods(), "times the client is not at home, e.g. '2026-12-01..2026-12-14'"),
    ),
)

REQUESTS = Layout(
    "requests",
    title="Care requests",
    references="clients",
    columns=(
        Column("external_id", ID, "id of the standing request, e.g. c017-1: the key for re-imports", required=True),
        Column("client_id", ID, "external_id of the client", required=True),
        Column(
            "activity",
            c.Text(40, r"[a-z][a-z0-9_]*", "not an activity key like reading"),
            "key of the activity catalogue (organisation.json); its label is what calendars and proofs show",
            required=True,
        ),
        Column(
            "category",
            c.Text(40, r"[a-z_]+", "not a lower-case category name like betreuung"),
            "service category of the price list; empty: the activity's category (else betreuung)",
        ),
        Column("duration_min", c.Integer(15, 480), "minutes per visit", required=True),
        Column("visits_per_week", c.Integer(1, 7), "", default=1),
        Column(
            "windows",
            c.Windows(),
            "when the visit may take place, e.g. 'tue 13:00-18:00; thu 13:00-18:00'",
            required=True,
        ),
        Column("priority", c.Integer(1, 10), "weight of covering this request (1 = normal)", default=1),
        Column("valid_from", c.Date(), "first day", required=True),
        Column("valid_to", c.Date(), "last day; empty: open-ended"),
        Column("note", c.Text(500), "the office's own words about this request; never leaves the office"),
    ),
)

LAYOUTS = {layout.kind: layout for layout in (VOLUNTEERS, CLIENTS, REQUESTS)}
