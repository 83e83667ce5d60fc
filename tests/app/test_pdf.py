"""Every PDF embeds a Unicode font: names in any script come out as written."""

import unicodedata

from pypdf import PdfReader

from carecal.pdf import FONT, document

NAMES = ["Людмила Иванова", "Олександра Ґонтар-Їжакевич", "Nguyễn Thị Hương Đặng", "فاطمة الزهراء", "Grüße § €"]


def test_names_in_any_script_are_embedded_and_extract_as_written(tmp_path):
    pdf = document()
    pdf.add_page()
    for name in NAMES:
        pdf.cell(0, 8, f"Klient/in: {name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "Nguyễn Văn Đức", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "names.pdf"
    pdf.output(str(path))

    page = PdfReader(path).pages[0]
    text = unicodedata.normalize("NFC", page.extract_text())
    for name in [*NAMES, "Nguyễn Văn Đức"]:
        assert f"{name}" in text, name
    fonts = {font["/BaseFont"] for font in page["/Resources"]["/Font"].values()}
    assert all("DejaVu" in str(font) for font in fonts) and len(fonts) == 2  # embedded subsets, regular and bold
    descriptors = [font["/DescendantFonts"][0]["/FontDescriptor"] for font in page["/Resources"]["/Font"].values()]
    assert all("/FontFile2" in descriptor for descriptor in descriptors)


def test_arabic_is_shaped_into_its_joined_forms():
    pdf = document()
    pdf.add_page()
    joined = pdf.get_string_width("فاطمة الزهراء")
    pdf.set_text_shaping(False)
    assert joined < 0.9 * pdf.get_string_width("فاطمة الزهراء")  # isolated letters are wider
