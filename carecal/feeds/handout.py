"""A one-page handout to subscribe in one scan: the QR code, the link, and three short
steps each for iPhone, Android and Thunderbird, in the volunteer's language.

It holds the secret link, so it is written for the office only (0600) and given to the
volunteer by hand. A new link (`carecal feed handout --rotate`) means a new handout; the
old sheet stops working with the old link.
"""

import io
from dataclasses import dataclass

from fpdf.enums import WrapMode

from carecal.feeds.i18n import gettext_for, language_or_default
from carecal.feeds.links import qr_code
from carecal.pdf import FONT, document


def _(message: str) -> str:
    """Marks a message for extraction (pybabel); it is translated where the page is laid out."""
    return message


# Steps per calendar app, in order (the texts are gettext message ids).
STEPS = {
    _("iPhone and iPad"): (
        _("1. Open the Camera app and point it at the code."),
        _("2. Tap the link that appears, then tap “Subscribe”."),
        _("3. Tap “Done”. Your visits are now in the Calendar app."),
    ),
    _("Android"): (
        _("1. Install the free app ICSx⁵ (Google Play or F-Droid)."),
        _("2. Scan the code with the camera, or open ICSx⁵, tap + and type the link."),
        _("3. Tap “Subscribe”. Your visits appear in Google Calendar and every calendar app on the phone."),
    ),
    _("Thunderbird (computer)"): (
        _("1. Choose File → New → Calendar… → On the Network."),
        _("2. Enter the https:// link as the location."),
        _("3. Click “Find Calendars”, then “Subscribe”."),
    ),
}


@dataclass(frozen=True)
class Handout:
    first_name: str
    language: str
    organisation: str
    webcal: str
    https: str
    office_phone: str | None = None


def render_handout(handout: Handout) -> bytes:
    """The handout as PDF bytes."""
    tr = gettext_for(language_or_default(handout.language))
    pdf = document()
    pdf.set_title(tr("Your visits in your calendar"))
    pdf.set_author(handout.organisation)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font(FONT, "", 10)
    pdf.cell(width, 6, handout.organisation, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 9, tr(_("Your visits in your calendar")), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    pdf.set_font(FONT, "", 11)
    intro = _(
        "Hello {name}! Scan this code with your phone's camera to see your visits in your calendar app. "
        "Changes and cancellations appear there by themselves."
    )
    pdf.multi_cell(width, 6, tr(intro).format(name=handout.first_name), new_x="LMARGIN", new_y="NEXT", align="L")

    png = io.BytesIO()
    qr_code(handout.webcal).save(png, kind="png", scale=10, border=4)
    size = 62
    pdf.image(png, x=(pdf.w - size) / 2, y=pdf.get_y() + 3, w=size, h=size)
    pdf.set_y(pdf.get_y() + size + 6)

    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(width, 5, tr(_("Or type this link:")), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT, "B", 7.5)
    for link in (handout.webcal, handout.https):
        pdf.multi_cell(width, 5, link, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR, align="L")
    pdf.ln(3)

    for app, steps in STEPS.items():
        pdf.set_font(FONT, "B", 12)
        pdf.cell(width, 7, tr(app), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font(FONT, "", 10.5)
        for step in steps:
            pdf.multi_cell(width, 5.5, tr(step), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)

    pdf.set_font(FONT, "", 9.5)
    warning = _(
        "Keep this sheet to yourself: anyone with the link can see your visits. If it gets lost, tell the office; "
        "you will get a new link and this one stops working."
    )
    pdf.multi_cell(width, 5, tr(warning), new_x="LMARGIN", new_y="NEXT", align="L")
    if handout.office_phone:
        pdf.ln(1)
        pdf.set_font(FONT, "B", 10)
        questions = tr(_("Questions? Call the office: {phone}")).format(phone=handout.office_phone)
        pdf.multi_cell(width, 5, questions, new_x="LMARGIN", new_y="NEXT", align="L")
    if pdf.page_no() != 1:
        raise RuntimeError("the handout no longer fits on one page")  # a layout bug, caught by the tests
    return bytes(pdf.output())
