"""The VBA macros (macros/*.bas) call Python entry points that exist, with arguments they take."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import pyxl.excel  # noqa: F401  (sets the xlwings license key before xlwings is imported)
from pyxl.adapters import schema
from pyxl.domain.model import CONTACT_METHODS

MACROS = Path(__file__).parents[2] / "macros"
PREFIX = re.compile(r'Private Const PYXL As String = "import ([\w.]+) as (\w+); \2\."')


def bas_files() -> list[Path]:
    files = sorted(MACROS.glob("*.bas"))
    assert files, "no VBA modules in macros/"
    return files


def python_calls(text: str) -> list[tuple[str, str]]:
    """(module, function) for every RunPython call in a module."""
    prefix = PREFIX.search(text)
    calls = re.findall(r'RunPython PYXL & "(\w+)\(', text)
    if calls:
        assert prefix, "RunPython calls must use the module's PYXL import prefix"
    return [(prefix.group(1), name) for name in calls] if prefix else []


def test_every_macro_module_declares_its_vba_name() -> None:
    for path in bas_files():
        first = path.read_text().splitlines()[0]
        assert first == f'Attribute VB_Name = "{path.stem}"'


@pytest.mark.parametrize("path", bas_files(), ids=lambda p: p.name)
def test_every_runpython_call_names_a_function_that_exists(path: Path) -> None:
    for module_name, function in python_calls(path.read_text()):
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function, None)), f"{module_name}.{function} is missing"


def test_the_refresh_macros_pass_arguments_the_entry_point_accepts() -> None:
    from pyxl.excel import desktop, scripts

    text = (MACROS / "PyxlButtons.bas").read_text()
    for scope in re.findall(r"refresh_due_list\('(\w+)'\)", text):
        assert scope in scripts.SCOPES
        inspect.signature(desktop.refresh_due_list).bind(scope)
    assert len(re.findall(r"refresh_due_list\(", text)) == 2


def test_the_letters_macros_pass_a_scope_the_entry_point_accepts() -> None:
    from pyxl.excel import desktop, scripts

    text = (MACROS / "PyxlButtons.bas").read_text()
    scopes = re.findall(r"generate_letters\('(\w+)'\)", text)
    assert sorted(scopes) == sorted(scripts.SCOPES)
    for scope in scopes:
        inspect.signature(desktop.generate_letters).bind(scope)


def test_the_report_macro_calls_the_report_entry_point_without_arguments() -> None:
    from pyxl.excel import desktop

    text = (MACROS / "PyxlButtons.bas").read_text()
    assert 'RunPython PYXL & "build_report()"' in text
    inspect.signature(desktop.build_report).bind()


def test_the_log_contact_macro_passes_every_field_the_script_takes() -> None:
    from pyxl.excel import scripts

    text = (MACROS / "PyxlButtons.bas").read_text()
    call = text[text.index('"log_contact(') :].split("\n")[0:2]
    pieces = " ".join(call)
    arguments = pieces.count("PyStr(") + pieces.count("''")
    # after the book, before `upload` (which only the add-in's task pane sends)
    fields = [
        f for f in list(inspect.signature(scripts.log_contact).parameters)[1:] if f != "upload"
    ]
    assert arguments == len(fields) == 7
    inspect.signature(scripts.log_contact).bind("book", *["x"] * arguments)
    for method in CONTACT_METHODS:
        assert method in text  # the prompt lists the methods validation accepts


def test_the_settings_macro_names_the_udf_module_and_it_has_the_functions() -> None:
    from pyxl.excel import desktop, udfs

    text = (MACROS / "PyxlSetup.bas").read_text()
    module = re.search(r'Array\("UDF Modules", "([\w.]+)"\)', text).group(1)
    assert importlib.import_module(module) is desktop
    assert {f.__name__ for f in desktop.UDFS} == {f"pyxl_{f.__name__}" for f in udfs.FUNCTIONS}


def test_the_python_string_helper_escapes_what_python_needs() -> None:
    text = (MACROS / "PyxlButtons.bas").read_text()
    body = text[text.index("Private Function PyStr") :]

    def vba_pystr(value: str) -> str:  # the same replacements, in order
        for old, new in re.findall(r'Replace\(text, (".*?"|vbCr|vbLf), "(.*?)"\)', body):
            old = {"vbCr": "\r", "vbLf": "\n"}.get(old, old.strip('"'))
            value = value.replace(old, new)
        return f"'{value}'"

    for note in ["O'Neil said \\ no", "line\nbreak", "=HYPERLINK(1)"]:
        assert ast.literal_eval(vba_pystr(note)) == note


def test_the_contact_table_has_the_columns_the_macro_fills() -> None:
    assert {"Case ID", "Date", "Method", "Successful", "Notes", "Staff"} <= set(
        schema.CONTACTS.headers
    )
