"""The languages of calendar texts, from gettext catalogs in carecal/locale.

Message ids are English; each language (German first: the association's language and the
default) has a catalog `carecal/locale/<lang>/LC_MESSAGES/carecal.po` compiled to `.mo`.
The volunteers' allowance statements have their own domain, `statements`
(carecal.billing.statement), in the same languages.
"""

from functools import cache
from importlib.resources import files

from babel.support import NullTranslations, Translations

DOMAIN = "carecal"
DEFAULT_LANGUAGE = "de"
LANGUAGES = ("de", "ru", "uk", "en")
LOCALE_DIR = files("carecal") / "locale"


def language_or_default(code: str | None) -> str:
    """A supported language code; anything else (or nothing) falls back to German."""
    code = (code or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str, domain: str = DOMAIN) -> NullTranslations:
    language = language_or_default(language)
    catalog = Translations.load(str(LOCALE_DIR), [language], domain)
    if not isinstance(catalog, Translations):  # .mo missing: a packaging error, not a user's
        raise RuntimeError(f"no compiled {domain}.mo for {language!r} under {LOCALE_DIR}")
    return catalog


def gettext_for(language: str, domain: str = DOMAIN):
    """`_` for `language`: `_("Visit to {client}").format(client=...)`."""
    return translations(language, domain).gettext
