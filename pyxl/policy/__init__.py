"""Policy as data: timing rules, program packs and settings (TOML beside this file)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pyxl.domain.letters import LetterBook
from pyxl.domain.rules import RuleBook, Settings
from pyxl.domain.sanctions import FlowBook


def _load(name: str) -> dict:
    return tomllib.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))


@cache
def rulebook() -> RuleBook:
    return RuleBook.from_dict(_load("rules.toml"))


@cache
def default_settings() -> Settings:
    return Settings.from_dict(_load("settings.toml")["settings"])


@cache
def flowbook() -> FlowBook:
    return FlowBook.from_dict(_load("flows.toml"))


@cache
def letter_book() -> LetterBook:
    return LetterBook.from_dict(_load("letters.toml"))
