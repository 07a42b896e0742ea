"""The Settings sheet of a new workbook shows every default as staff would type it."""

from __future__ import annotations

from pyxl.policy import default_settings
from pyxl.services.new_workbook import settings_rows


def test_every_setting_row_reads_back_as_its_default():
    settings = default_settings()
    for name, value, default, _rule, meaning in settings_rows():
        spec = settings.specs[name]
        assert value == default
        assert spec.parse(value) == settings[name], name
        assert meaning


def test_yes_no_settings_are_written_as_yes_or_no_and_numbers_as_numbers():
    rows = {name: value for name, value, *_ in settings_rows()}
    assert rows["Due List shows met"] == "No"
    assert rows["Missed months shown"] == 1  # not "Yes": 1 == True must not fool the writer
    assert rows["A-12 mode"] == "rolling"
