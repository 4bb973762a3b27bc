"""Every posted form is read one way (server/forms.py PostedForm): what was typed, kept for the page that comes
back, never checked while it is read."""

from __future__ import annotations

from dataclasses import dataclass

from server.appointments.service import BookingForm
from server.forms import PostedForm, posted
from server.statistics.service import ExportForm


@dataclass
class Example(PostedForm):
    name: str = ""
    kinds: list[str] = posted([])
    agreed: bool = posted(False, name="setuju", true="ya")
    secret: str = posted(name="kata_sandi", raw=True)
    kind: str = posted("csv", name="format", empty_is_default=True)
    worked_out: dict[str, int] = posted({}, read=False)


def test_fields_are_read_as_typed_with_the_pages_names():
    form = Example.from_data({"name": ["  Sari  ", " Dewi "], "kinds": ["a", " ", "b"], "setuju": "ya",
                              "kata_sandi": "  spasi di depan ", "format": "", "worked_out": "x"})
    # The last value of a field sent twice, stripped; every non-empty choice; yes by its own word; a password
    # with its spaces; an empty field that means "the default"; nothing read into what the form works out.
    assert form == Example(name="Dewi", kinds=["a", "b"], agreed=True, secret="  spasi di depan ", kind="csv",
                           worked_out={})


def test_a_field_not_sent_is_empty_and_a_checkbox_not_ticked_is_no():
    assert Example.from_data({}) == Example(name="", kinds=[], agreed=False, secret="", kind="csv")
    assert Example.from_data({"setuju": "1"}).agreed is False


def test_the_apps_forms_are_read_the_same_way():
    assert BookingForm.from_data({"layanan": " 3 ", "slot": "2@1700000000"}).layanan == "3"
    export = ExportForm.from_data({"tahun": "2026", "format": "", "identitas": "1", "alasan": "a\x00b"})
    assert (export.year, export.kind, export.identity, export.reason) == ("2026", "csv", True, "ab")
