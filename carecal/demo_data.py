"""The demo association: synthetic volunteers, clients and care requests in Chemnitz.

Deterministic from the seed: the same seed and sizes give the same files, byte for byte.
The shape (data/README.md): clients mostly Russian- and Ukrainian-speaking, some German,
Arabic and Vietnamese; older people in the south-western prefab estates, Gablenz,
Yorckgebiet and Sonnenberg; foreign-born people densest in Zentrum, Furth and Bernsdorf.
Dates are placed around the demo week (default 2026-W48): some trainings lapse in that week
or the two after it, a few volunteers are absent, two clients are away.

    python -m carecal.demo_data --seed 2026 --volunteers 45 --clients 120 --out data/

writes volunteers.csv, clients.csv and care_requests.csv in the import layout
(carecal/masterdata/layout.py, documented in data/README.md).
"""

import argparse
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, time, timedelta
from pathlib import Path

from schwifty import IBAN

from carecal import private_files
from carecal.masterdata.codecs import Iban
from carecal.masterdata.districts import areas_km2, districts
from carecal.masterdata.layout import CLIENTS, REQUESTS, VOLUNTEERS, Layout
from carecal.tables import write_table
from carecal.weeks import DEFAULT_TZ, IsoWeek, local

# The shape of Chemnitz and of its care week, shared with the solver's synthetic weeks (one home)
from solver.generate import (
    AVAILABILITY,
    DURATIONS,
    FOREIGN_BORN,
    GENDER_WISH,
    KM_PER_DEGREE_LAT,
    OLDER_ESTATES,
    OUTLYING,
    REQUEST_WINDOWS,
)

DEFAULT_SEED = 2026
DEFAULT_WEEK = "2026-W48"
DEMO_BANK_CODE = "87099999"  # a Chemnitz-like Bankleitzahl that no bank has

POSTCODES = {
    "Adelsberg": "09127",
    "Altchemnitz": "09120",
    "Altendorf": "09116",
    "Bernsdorf": "09126",
    "Borna-Heinersdorf": "09114",
    "Ebersdorf": "09131",
    "Einsiedel": "09123",
    "Erfenschlag": "09125",
    "Euba": "09128",
    "Furth": "09113",
    "Gablenz": "09127",
    "Glösa-Draisdorf": "09131",
    "Grüna": "09224",
    "Harthau": "09125",
    "Helbersdorf": "09120",
    "Hilbersdorf": "09131",
    "Hutholz": "09123",
    "Kapellenberg": "09119",
    "Kappel": "09119",
    "Kaßberg": "09112",
    "Klaffenbach": "09123",
    "Kleinolbersdorf-Altenhain": "09128",
    "Lutherviertel": "09126",
    "Markersdorf": "09123",
    "Mittelbach": "09224",
    "Morgenleite": "09122",
    "Rabenstein": "09117",
    "Reichenbrand": "09117",
    "Reichenhain": "09125",
    "Rottluff": "09116",
    "Röhrsdorf": "09247",
    "Schloßchemnitz": "09113",
    "Schönau": "09116",
    "Siegmar": "09117",
    "Sonnenberg": "09130",
    "Stelzendorf": "09116",
    "Wittgensdorf": "09228",
    "Yorckgebiet": "09130",
    "Zentrum": "09111",
}
STREETS = (
    "Gartenstraße",
    "Lindenweg",
    "Ahornstraße",
    "Birkenweg",
    "Schulstraße",
    "Bergstraße",
    "Wiesenweg",
    "Rosenstraße",
    "Am Park",
    "Feldstraße",
    "Waldstraße",
    "Kirchgasse",
    "Friedensstraße",
    "Sonnenweg",
    "Mühlenstraße",
    "Lerchenweg",
    "Amselstraße",
    "Talstraße",
    "Brunnenstraße",
    "Ringstraße",
)

# Names as they are written in German documents (transliteration of Russian/Ukrainian in
# German style). (female first names, male first names, surnames) per origin; a surname
# pair "m|f" has a male and a female form.
NAMES = {
    "ru": (
        (
            "Tatjana",
            "Ljudmila",
            "Galina",
            "Walentina",
            "Swetlana",
            "Natalja",
            "Olga",
            "Irina",
            "Jelena",
            "Nina",
            "Raissa",
            "Tamara",
            "Lidija",
            "Soja",
            "Larissa",
            "Wera",
            "Nadeschda",
            "Antonina",
            "Jekaterina",
            "Marina",
        ),
        (
            "Sergej",
            "Wladimir",
            "Alexander",
            "Nikolai",
            "Juri",
            "Boris",
            "Michail",
            "Viktor",
            "Anatoli",
            "Gennadi",
            "Iwan",
            "Dmitri",
            "Pjotr",
            "Wassili",
            "Leonid",
            "Arkadi",
            "Grigori",
            "Jakow",
        ),
        (
            "Iwanow|Iwanowa",
            "Petrow|Petrowa",
            "Smirnow|Smirnowa",
            "Kusnezow|Kusnezowa",
            "Popow|Popowa",
            "Sokolow|Sokolowa",
            "Lebedew|Lebedewa",
            "Koslow|Koslowa",
            "Nowikow|Nowikowa",
            "Morosow|Morosowa",
            "Wolkow|Wolkowa",
            "Solowjow|Solowjowa",
            "Wassiljew|Wassiljewa",
            "Sajzew|Sajzewa",
            "Pawlow|Pawlowa",
            "Orlow|Orlowa",
            "Rabinowitsch",
            "Kaplan",
            "Gurewitsch",
            "Lewin",
            "Schapiro",
            "Fischmann",
        ),
    ),
    "uk": (
        (
            "Olena",
            "Oksana",
            "Halyna",
            "Natalija",
            "Switlana",
            "Iryna",
            "Tetjana",
            "Ljudmyla",
            "Walentyna",
            "Nadija",
            "Mariia",
            "Hanna",
            "Larysa",
            "Sofija",
        ),
        (
            "Mykola",
            "Wolodymyr",
            "Oleksandr",
            "Petro",
            "Iwan",
            "Wassyl",
            "Serhij",
            "Andrij",
            "Jurij",
            "Bohdan",
            "Taras",
            "Stepan",
        ),
        (
            "Schewtschenko",
            "Kowalenko",
            "Bondarenko",
            "Tkatschenko",
            "Kowaltschuk",
            "Melnyk",
            "Krawtschenko",
            "Olijnyk",
            "Moros",
            "Lysenko",
            "Martschenko",
            "Sawtschuk",
            "Rudenko",
            "Bojko",
            "Pawlenko",
            "Hrytsenko",
        ),
    ),
    "de": (
        (
            "Ingrid",
            "Gisela",
            "Helga",
            "Ursula",
            "Renate",
            "Christa",
            "Brigitte",
            "Karin",
            "Monika",
            "Elke",
            "Sabine",
            "Anja",
            "Katrin",
            "Claudia",
            "Petra",
            "Susanne",
            "Lena",
            "Julia",
            "Marie",
            "Sophie",
        ),
        (
            "Manfred",
            "Dieter",
            "Klaus",
            "Gerhard",
            "Wolfgang",
            "Horst",
            "Günter",
            "Jürgen",
            "Uwe",
            "Frank",
            "Thomas",
            "Andreas",
            "Matthias",
            "Jan",
            "Lukas",
            "Felix",
        ),
        (
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Richter",
            "Wolf",
            "Neumann",
            "Schwarz",
            "Zimmermann",
            "Krause",
            "Lehmann",
            "Köhler",
            "Hartmann",
            "Lange",
            "Fuchs",
            "Seidel",
            "Uhlig",
            "Günther",
            "Böhm",
        ),
    ),
    "ar": (
        ("Fatima", "Amina", "Layla", "Huda", "Rania", "Samira", "Nour", "Yasmin", "Mariam", "Salma"),
        ("Ahmad", "Mohammed", "Khaled", "Omar", "Yusuf", "Hassan", "Ali", "Karim", "Samir", "Tarek"),
        ("Al-Hassan", "Haddad", "Khalil", "Nasser", "Saleh", "Darwish", "Ibrahim", "Mansour", "Hamdan", "Youssef"),
    ),
    "vi": (
        ("Thi Lan", "Thi Hoa", "Thi Mai", "Thi Thu", "Thi Hanh", "Thi Huong"),
        ("Van Minh", "Van Hung", "Duc Anh", "Van Long", "Quang Huy"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang"),
    ),
    "en": (
        ("Emily", "Sarah", "Priya", "Grace", "Hannah"),
        ("Daniel", "James", "Arjun", "Michael", "Samuel"),
        ("Carter", "Brooks", "Sharma", "Walsh", "Okafor", "Mensah"),
    ),
}

CLIENT_MOTHER_TONGUE = [("ru", 48), ("uk", 27), ("de", 11), ("ar", 7), ("vi", 7)]
CLIENT_MORE_LANGUAGES = {
    "ru": [("de", 0.3)],
    "uk": [("ru", 0.45), ("de", 0.2)],
    "de": [("ru", 0.1)],
    "ar": [("de", 0.55)],
    "vi": [("de", 0.6)],
}
VOLUNTEER_FIRST_LANGUAGE = [("ru", 38), ("de", 24), ("uk", 22), ("ar", 10), ("en", 6)]
VOLUNTEER_MORE_LANGUAGES = {
    "ru": [("de", 0.85), ("uk", 0.15), ("en", 0.2)],
    "uk": [("de", 0.75), ("ru", 0.5), ("en", 0.3)],
    "de": [("en", 0.5), ("ru", 0.15)],
    "ar": [("de", 0.8), ("en", 0.4)],
    "en": [("de", 0.6)],
}
UI_LANGUAGE = {
    "ru": [("ru", 55), ("de", 45)],
    "uk": [("uk", 60), ("de", 40)],
    "de": [("de", 1)],
    "ar": [("de", 70), ("en", 30)],
    "en": [("en", 1)],
}
CARE_GRADES = [(1, 12), (2, 36), (3, 30), (4, 16), (5, 6)]
PRIORITIES = [(1, 60), (2, 30), (3, 10)]
VOLUNTEER_GENDER = [("f", 70), ("m", 28), ("d", 2)]
WEEKLY_MINUTES = [(600, 25), (720, 35), (840, 40)]  # caps, not promises; 840 min = 14 h, the tax rule of thumb
MODES = {"walk": (20, 2.5, 4.0), "bike": (15, 5.0, 9.0), "transit": (50, 6.0, 12.0), "car": (15, 8.0, 15.0)}
# Keys of the activity catalogue in data/organisation.json (its labels are what calendars show).
ACTIVITIES = [
    "conversation_walk",
    "reading",
    "puzzles",
    "park_walk",
    "photo_albums",
    "games",
    "cooking",
    "music",
]
ERRANDS = ["shopping", "appointment", "authorities"]
INSURERS = [
    ("AOK PLUS Pflegekasse", "107299005", 55),
    ("BARMER Pflegekasse", "104940005", 15),
    ("Techniker Krankenkasse Pflegekasse", "101575519", 12),
    ("DAK-Gesundheit Pflegekasse", "105830016", 10),
    ("IKK classic Pflegekasse", "107202793", 8),
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DemoData:
    volunteers: list[dict]
    clients: list[dict]
    requests: list[dict]


def _weighted(rng: random.Random, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def _minutes(a: time, b: time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


class Generator:
    def __init__(self, seed: int, week: IsoWeek, width: int = 3):
        self.width = width  # digits of the ids: c001, or c0001 in a set of thousands
        self.rng = random.Random(f"carecal-demo-{seed}")
        self.bank_rng = random.Random(f"carecal-demo-{seed}-bank")
        self.week = week
        self.monday = week.monday
        self.districts = districts()
        self.used_names: set[str] = set()

    # --- people ----------------------------------------------------------------------------

    def name(self, origin: str, gender: str) -> tuple[str, str]:
        female, male, surnames = NAMES[origin]
        for _ in range(200):
            first = self.rng.choice(female if gender == "f" else male if gender == "m" else female + male)
            surname = self.rng.choice(surnames)
            if "|" in surname:
                male_form, female_form = surname.split("|")
                surname = female_form if gender == "f" else male_form
            if f"{first} {surname}" not in self.used_names:
                break
        self.used_names.add(f"{first} {surname}")
        return first, surname

    def home(self, weight) -> dict:
        """A point scattered around a district's centre, within about the district's radius."""
        names = sorted(self.districts)
        district = self.rng.choices(names, weights=[weight(n) for n in names])[0]
        lat0, lon0 = self.districts[district]
        radius = math.sqrt(areas_km2()[district] / math.pi)
        north = max(-radius, min(radius, self.rng.gauss(0, radius / 2.5)))
        east = max(-radius, min(radius, self.rng.gauss(0, radius / 2.5)))
        return {
            "street": f"{self.rng.choice(STREETS)} {self.rng.randint(1, 120)}",
            "postcode": POSTCODES.get(district),
            "district": district,
            "lat": round(lat0 + north / KM_PER_DEGREE_LAT, 5),
            "lon": round(lon0 + east / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat0))), 5),
        }

    def phone(self) -> str:
        if self.rng.random() < 0.6:
            return f"0371 {self.rng.randint(200000, 9999999)}"
        return f"0{self.rng.choice(['151', '152', '157', '160', '170', '176'])} {self.rng.randint(1000000, 99999999)}"

    def iban(self) -> str:
        """A German IBAN with valid check digits at a bank code no bank has (DEMO_BANK_CODE):
        the demo's transfer file can never pay a real account."""
        account = f"{self.bank_rng.randint(0, 10**10 - 1):010d}"  # own draws: the other data stay as they were
        return IBAN.generate("DE", bank_code=DEMO_BANK_CODE, account_code=account).compact

    def insurance_number(self) -> str:
        return f"{self.rng.choice('ABCDEFGHKLMNPRSTUVWZ')}{self.rng.randint(0, 999_999_999):09d}"

    def languages(self, first: str, more: dict) -> tuple[str, ...]:
        return (first, *(lang for lang, p in more.get(first, []) if self.rng.random() < p))

    # --- volunteers ------------------------------------------------------------------------

    def volunteers(self, count: int) -> list[dict]:
        rows = []
        for i in range(1, count + 1):
            first_language = _weighted(self.rng, VOLUNTEER_FIRST_LANGUAGE)
            gender = _weighted(self.rng, VOLUNTEER_GENDER)
            first, last = self.name(first_language, gender)
            mode = _weighted(self.rng, [(m, w) for m, (w, _, _) in MODES.items()])
            _, shortest, longest = MODES[mode]
            home = self.home(
                lambda d: (
                    (0.3 if d in OUTLYING else 1.0) * (5 if d in FOREIGN_BORN else 1) * (2 if d in OLDER_ESTATES else 1)
                )
            )
            rows.append(
                {
                    "external_id": f"v{i:0{self.width}d}",
                    "active": True,
                    "first_name": first,
                    "last_name": last,
                    "gender": gender,
                    "phone": self.phone(),
                    "email": f"{_ascii(first)}.{_ascii(last)}@example.org".lower(),
                    **home,
                    "languages": self.languages(first_language, VOLUNTEER_MORE_LANGUAGES),
                    "ui_language": _weighted(self.rng, UI_LANGUAGE[first_language]),
                    "reminders": None,  # the default: the evening before and one hour before
                    "travel_mode": mode,
                    "max_km": round(self.rng.uniform(shortest, longest) * 2) / 2,
                    "max_minutes_per_week": _weighted(self.rng, WEEKLY_MINUTES),
                    "max_visits_per_day": self.rng.choice([2, 2, 3, 3, 3]),
                    "availability": self.availability(),
                    "trainings": self.trainings(dementia=self.rng.random() < 0.55),
                    "absences": (),
                    "must_not_visit": (),
                    "iban": self.iban(),
                    "account_holder": None,
                    "allowance_limit": "3_26",
                }
            )
        for row in rows:  # a calendar in a language they do not speak: leave it to the default
            if row["ui_language"] not in row["languages"]:
                row["ui_language"] = None
        self.lapse_some_trainings(rows)
        self.absent_some(rows)
        if len(rows) > 20:
            rows[-1]["active"] = False  # moved away: kept for the records, not planned
        return rows

    def availability(self) -> tuple:
        days = sorted(self.rng.sample(WEEKDAYS[:5], self.rng.choice([3, 3, 4, 4, 5])), key=WEEKDAYS.index)
        pattern = self.rng.choice(AVAILABILITY)
        windows = []
        for day in days:
            start, end = pattern if self.rng.random() < 0.7 else self.rng.choice(AVAILABILITY)
            windows.append((day, _clock(start), _clock(end)))
        return tuple(windows)

    def trainings(self, dementia: bool) -> tuple:
        """A basic training renewed every three years; dementia training valid for two."""
        basic_done = self.monday - timedelta(days=self.rng.randint(60, 1000))
        trainings = [("basic", basic_done, basic_done + timedelta(days=3 * 365))]
        if dementia:
            done = self.monday - timedelta(days=self.rng.randint(30, 650))
            trainings.append(("dementia", done, done + timedelta(days=2 * 365)))
        return tuple(sorted(trainings, key=lambda t: (t[1], t[0])))

    def lapse_some_trainings(self, rows: list[dict]) -> None:
        """Basic trainings that lapse on Wednesday of the demo week, in the next week and the one
        after; a dementia training that lapses mid-week; one basic training lapsed last month."""
        lapses = [("basic", 2), ("basic", 9), ("basic", 16), ("dementia", 3), ("basic", -23)]
        picked = self.rng.sample(range(len(rows) - 1), min(len(lapses), len(rows) - 1))
        for (kind, offset), index in zip(lapses, picked, strict=False):
            expires = self.monday + timedelta(days=offset)
            years = 3 if kind == "basic" else 2
            completed = expires - timedelta(days=years * 365)
            others = [t for t in rows[index]["trainings"] if t[0] != kind]
            rows[index]["trainings"] = tuple(sorted([*others, (kind, completed, expires)], key=lambda t: (t[1], t[0])))

    def absent_some(self, rows: list[dict]) -> None:
        """A holiday over the demo week, a sick day, a morning at the doctor's, one next week."""
        tz = DEFAULT_TZ  # the demo association's (data/organisation.json)
        monday = self.monday
        periods = [
            (local(monday, time(0), tz), local(monday + timedelta(days=5), time(0), tz)),
            (local(monday + timedelta(days=2), time(0), tz), local(monday + timedelta(days=3), time(0), tz)),
            (local(monday + timedelta(days=3), time(8), tz), local(monday + timedelta(days=3), time(12), tz)),
            (local(monday + timedelta(days=7), time(0), tz), local(monday + timedelta(days=12), time(0), tz)),
        ]
        for period, index in zip(periods, self.rng.sample(range(len(rows) - 1), min(4, len(rows) - 1)), strict=False):
            rows[index]["absences"] = tuple(sorted([*rows[index]["absences"], _utc(period)]))

    # --- clients ---------------------------------------------------------------------------

    def clients(self, count: int) -> list[dict]:
        rows = []
        for i in range(1, count + 1):
            mother_tongue = _weighted(self.rng, CLIENT_MOTHER_TONGUE)
            gender = self.rng.choices(["f", "m"], weights=[68, 32])[0]
            first, last = self.name(mother_tongue, gender)
            german = mother_tongue == "de"
            home = self.home(
                lambda d, german=german: (
                    (0.3 if d in OUTLYING else 1.0)
                    * (6 if d in OLDER_ESTATES else 1)
                    * (1 if german else 5 if d in FOREIGN_BORN else 1)
                )
            )
            if self.rng.random() < 0.05:
                home["lat"] = home["lon"] = None  # address not geocoded: the district's centre is used
            dementia = self.rng.random() < 0.35
            born = date(self.monday.year - self.rng.randint(68, 96), self.rng.randint(1, 12), self.rng.randint(1, 28))
            grades = self.care_grades(dementia)
            since = self.monday - timedelta(days=self.rng.randint(30, 900))
            insurer, insurer_ik = self.insurer()
            representative = dementia and self.rng.random() < 0.85 or self.rng.random() < 0.2
            rep_first, rep_last = self.name(mother_tongue, self.rng.choice(["f", "m"]))
            rows.append(
                {
                    "external_id": f"c{i:0{self.width}d}",
                    "active": True,
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": born,
                    "phone": self.phone(),
                    **home,
                    "languages": self.languages(mother_tongue, CLIENT_MORE_LANGUAGES),
                    "dementia": dementia,
                    "care_grades": grades,
                    "gender_preference": _weighted(self.rng, GENDER_WISH),
                    "max_visits_per_day": 1,  # rule 10: a series never lands twice on one day
                    "insurer_name": insurer,
                    "insurer_ik": insurer_ik,
                    "insurance_number": self.insurance_number(),
                    "representative_name": f"{rep_first} {rep_last}" if representative else None,
                    "representative_contact": self.phone() if representative else None,
                    "consent_recorded_on": since if self.rng.random() < 0.97 else None,
                    "benefits_assigned_on": since + timedelta(days=self.rng.randint(0, 20))
                    if self.rng.random() < 0.5
                    else None,
                    "conversion_budget_opt_in": grades[-1][0] >= 2 and self.rng.random() < 0.2,
                    "family_feed_opt_in": False,
                    "lives_at_home": True,
                    "away": (),
                    "_since": since,
                }
            )
        for row in self.rng.sample(rows, min(5, len(rows))):
            row["family_feed_opt_in"] = True
        tz = DEFAULT_TZ  # the demo association's (data/organisation.json)
        hospital = (
            local(self.monday + timedelta(days=1), time(0), tz),
            local(self.monday + timedelta(days=11), time(0), tz),
        )
        travel = (
            local(self.monday + timedelta(days=3), time(0), tz),
            local(self.monday + timedelta(days=7), time(0), tz),
        )
        for row, period in zip(self.rng.sample(rows, min(2, len(rows))), (hospital, travel), strict=False):
            row["away"] = (_utc(period),)
        return rows

    def care_grades(self, dementia: bool) -> tuple:
        grade = _weighted(self.rng, CARE_GRADES)
        if dementia and grade < 2:
            grade = 2
        current_since = self.monday - timedelta(days=self.rng.randint(40, 1500))
        grades = [(grade, current_since)]
        if grade > 1 and self.rng.random() < 0.3:
            grades.insert(0, (grade - 1, current_since - timedelta(days=self.rng.randint(200, 900))))
        return tuple(grades)

    def insurer(self) -> tuple[str, str]:
        name, ik, _ = self.rng.choices(INSURERS, weights=[w for _, _, w in INSURERS])[0]
        return name, ik

    def requests(self, clients: list[dict]) -> list[dict]:
        rows = []
        for client in clients:
            shape = self.rng.choices(["one", "twice", "two"], weights=[45, 37, 18])[0]
            plan = {"one": [1], "twice": [2], "two": [1, self.rng.choice([1, 2])]}[shape]
            days = self.rng.sample(WEEKDAYS[:5], 5)
            for k, visits in enumerate(plan, start=1):
                errand = k == 2 and self.rng.random() < 0.6
                duration = 90 if errand else _weighted(self.rng, DURATIONS)
                fitting = [w for w in REQUEST_WINDOWS if _minutes(_clock(w[0]), _clock(w[1])) >= duration]
                n_days = min(5, visits + self.rng.choice([0, 1, 1, 2]))
                own_days = sorted(days[:n_days], key=WEEKDAYS.index)
                days = days[n_days:] + days[:n_days]
                windows = tuple((day, *map(_clock, self.rng.choice(fitting))) for day in own_days)
                valid_from = client["_since"]
                if self.rng.random() < 0.03:
                    valid_from = self.monday + timedelta(days=7)  # starts next week
                rows.append(
                    {
                        "external_id": f"{client['external_id']}-{k}",
                        "client_id": client["external_id"],
                        "activity": self.rng.choice(ERRANDS if errand else ACTIVITIES),
                        "category": "alltagsbegleitung" if errand else "betreuung",
                        "duration_min": duration,
                        "visits_per_week": visits,
                        "windows": windows,
                        "priority": _weighted(self.rng, PRIORITIES),
                        "valid_from": valid_from,
                        "valid_to": date(self.monday.year, 12, 31) if self.rng.random() < 0.03 else None,
                        "note": None,
                    }
                )
        return rows

    def exclusions(self, volunteers: list[dict], clients: list[dict]) -> None:
        """Relatives and a household member among the volunteers, and a client's wish."""
        pool = [v for v in volunteers if v["active"]]
        picks = self.rng.sample(pool, min(5, len(pool)))
        for volunteer, kind in zip(
            picks, ("relative", "relative", "relative", "household", "client_wish"), strict=False
        ):
            same_language = [c for c in clients if c["languages"][0] == volunteer["languages"][0]] or clients
            client = self.rng.choice(same_language)
            volunteer["must_not_visit"] = tuple(sorted([*volunteer["must_not_visit"], (client["external_id"], kind)]))


def _utc(period):
    return tuple(moment.astimezone(UTC) for moment in period)


def _ascii(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", " ": "-"})
    return text.translate(table)


def generate(seed: int = DEFAULT_SEED, volunteers: int = 45, clients: int = 120, week: str = DEFAULT_WEEK) -> DemoData:
    """The demo association as records in the import layout (canonical values)."""
    generator = Generator(seed, IsoWeek.parse(week), width=max(3, len(str(max(volunteers, clients)))))
    client_rows = generator.clients(clients)
    volunteer_rows = generator.volunteers(volunteers)
    request_rows = generator.requests(client_rows)
    generator.exclusions(volunteer_rows, client_rows)
    for row in client_rows:
        del row["_since"]
    return DemoData(volunteer_rows, client_rows, request_rows)


FILES = (
    ("clients.csv", CLIENTS, "clients"),
    ("volunteers.csv", VOLUNTEERS, "volunteers"),
    ("care_requests.csv", REQUESTS, "requests"),
)


def write(data: DemoData, out: Path) -> list[Path]:
    private_files.make_dir(out)
    written = []
    for name, layout, attribute in FILES:
        path = out / name
        write_table(path, layout.names, (_format(layout, row) for row in getattr(data, attribute)))
        written.append(path)
    return written


def _format(layout: Layout, record: dict) -> list[str]:
    """The cells as the association's own file holds them: an IBAN whole (an export masks it)."""
    return [
        record[col.name] or "" if isinstance(col.codec, Iban) else col.codec.format(record[col.name])
        for col in layout.columns
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carecal.demo_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--volunteers", type=int, default=45)
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--week", default=DEFAULT_WEEK, help="the demo week the dates are placed around")
    parser.add_argument("--out", type=Path, default=Path("data"), help="directory for the CSV files")
    args = parser.parse_args(argv)
    if args.volunteers < 1 or args.clients < 1:
        parser.error("--volunteers and --clients must be at least 1")
    data = generate(args.seed, args.volunteers, args.clients, args.week)
    for path in write(data, args.out):
        print(f"wrote {path}")
    visits = sum(r["visits_per_week"] for r in data.requests)
    print(
        f"{len(data.volunteers)} volunteers, {len(data.clients)} clients, "
        f"{len(data.requests)} care requests ({visits} visits a week)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
