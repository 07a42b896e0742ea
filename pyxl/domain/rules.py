"""Rule definitions: timing rules as data, parsed from plain dicts (the policy TOML).

A rule says *when* something is due (trigger + clock) and *what* satisfies it
(evidence). Settings turn every ambiguity in the office procedures into a
named, typed value; a rule refers to one with "@Name".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pyxl.domain import model

RuleKind = Literal["deadline", "rolling", "monthly", "per_event"]
ClockUnit = Literal[
    "calendar_days",
    "business_days",
    "months",
    "end_of_month",
    "day_of_month",
    "nth_business_day",
]
Period = Literal["month", "previous_month", "previous_week"]

TABLES = ("contacts", "appointments", "hours", "services", "plans", "noncompliance")
# The fields a rule may name, so that a typo in the policy data fails when it loads.
CLIENT_FIELDS = frozenset(model.field_names(model.Client))
TABLE_FIELDS = {
    "contacts": frozenset(model.field_names(model.Contact)),
    "appointments": frozenset(model.field_names(model.Appointment)),
    "hours": frozenset(model.field_names(model.HoursEntry)),
    "services": frozenset(model.field_names(model.Service)),
    "plans": frozenset(model.field_names(model.Plan)),
    "noncompliance": frozenset(model.field_names(model.NoncomplianceEvent)),
}
DEFAULT_DATE_FIELD = {
    "contacts": "date",
    "appointments": "date",
    "hours": "week_start",
    "services": "start_date",
    "plans": "plan_date",
    "noncompliance": "date",
}


class PolicyError(ValueError):
    """A rule or setting definition is invalid (a bug in the policy data, not in user data)."""


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class SettingSpec:
    name: str
    default: Any
    kind: Literal["int", "ints", "choice", "bool"]
    rule: str
    meaning: str
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int | None = None

    def show(self, value: Any) -> object:
        """A parsed value as staff type it on the Settings sheet."""
        if self.kind == "bool":
            return "Yes" if value else "No"
        if self.kind == "ints":
            return ", ".join(map(str, value))
        return value

    def parse(self, raw: object) -> Any:
        """Read a value typed in the Settings sheet; raise ValueError with a readable reason."""
        text = str(raw).strip() if raw is not None else ""
        if self.kind == "int":
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"{self.name} must be a whole number, not {text!r}") from None
            top = "" if self.maximum is None else f" and at most {self.maximum}"
            if (
                number != int(number)
                or number < self.minimum
                or (self.maximum is not None and number > self.maximum)
            ):
                raise ValueError(
                    f"{self.name} must be a whole number of {self.minimum} or more{top}, "
                    f"not {text!r}"
                )
            return int(number)
        if self.kind == "ints":  # a list such as "1, 3, 6" (a ladder or a schedule)
            parts = [p.strip() for p in text.replace(";", ",").split(",")]
            if not all(p.isdigit() and int(p) >= max(self.minimum, 1) for p in parts):
                raise ValueError(
                    f"{self.name} must be whole numbers of 1 or more separated by commas, "
                    f"such as {self.default!r}; not {text!r}"
                )
            return tuple(int(p) for p in parts)
        if self.kind == "bool":
            if text.lower() in {"yes", "y", "true", "1"}:
                return True
            if text.lower() in {"no", "n", "false", "0"}:
                return False
            raise ValueError(f"{self.name} must be Yes or No, not {text!r}")
        match = next((c for c in self.choices if c.lower() == text.lower()), None)
        if match is None:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}; not {text!r}")
        return match


@dataclass(frozen=True)
class Settings:
    specs: Mapping[str, SettingSpec]
    values: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Settings:
        specs = {
            name: SettingSpec(
                name=name,
                default=d["default"],
                kind=d["kind"],
                rule=d.get("rule", ""),
                meaning=d.get("meaning", ""),
                choices=tuple(d.get("choices", ())),
                minimum=d.get("min", 0),
                maximum=d.get("max"),
            )
            for name, d in data.items()
        }
        values = {name: spec.parse(spec.default) for name, spec in specs.items()}
        return cls(specs, values)

    def with_values(self, overrides: Mapping[str, Any]) -> Settings:
        """Overrides are already-parsed values (see SettingSpec.parse)."""
        unknown = set(overrides) - set(self.specs)
        if unknown:
            raise PolicyError(f"unknown settings: {', '.join(sorted(unknown))}")
        return Settings(self.specs, {**self.values, **overrides})

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise PolicyError(f"a rule refers to the unknown setting {name!r}") from None

    def resolve(self, value: Any) -> Any:
        """A literal, or "@Name" for the value of setting Name."""
        if isinstance(value, str) and value.startswith("@"):
            return self[value[1:]]
        return value


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class Evidence:
    """Rows of one table that count as having done something, and the date that counts."""

    name: str
    table: str
    label: str
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    date_fields: tuple[str, ...] = ()  # first non-blank wins
    period_field: str = ""  # which date places the row in a period (monthly rules)

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> Evidence:
        table = d["table"]
        if table not in TABLES:
            raise PolicyError(f"evidence {name}: unknown table {table!r}")
        date = d.get("date", DEFAULT_DATE_FIELD[table])
        date_fields = (date,) if isinstance(date, str) else tuple(date)
        where = {
            key: tuple(v) if isinstance(v, list) else (v,) for key, v in d.get("where", {}).items()
        }
        period = d.get("period_date", date_fields[0])
        unknown = (set(where) | set(date_fields) | {period}) - TABLE_FIELDS[table]
        if unknown:
            raise PolicyError(f"evidence {name}: {table} has no field {', '.join(sorted(unknown))}")
        return cls(
            name=name,
            table=table,
            label=d.get("label", name),
            where=where,
            date_fields=date_fields,
            period_field=d.get("period_date", date_fields[0]),
        )


@dataclass(frozen=True)
class Clock:
    unit: ClockUnit
    n: Any = 0  # int or "@Setting"
    months: int = 0  # day_of_month: months after the base date
    day: Any = 1  # day_of_month: day N (int or "@Setting")
    roll: Any = "none"  # day_of_month: previous / next / none (or "@Setting")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Clock:
        unit = d["unit"]
        if unit not in ClockUnit.__args__:  # type: ignore[attr-defined]
            raise PolicyError(f"unknown clock unit {unit!r}")
        return cls(
            unit=unit,
            n=d.get("n", 0),
            months=d.get("months", 0),
            day=d.get("day", 1),
            roll=d.get("roll", "none"),
        )


@dataclass(frozen=True)
class Count:
    evidence: str
    minimum: Any = 1
    methods: Any = 0  # distinct contact methods needed (0 = any)


@dataclass(frozen=True)
class Rule:
    id: str
    source: str
    title: str
    kind: RuleKind
    reference: str
    phrase: str
    clock: Clock | None = None
    # deadline
    trigger_fields: tuple[str, ...] = ()  # latest of these client fields
    trigger_first: str | None = None  # or: the first evidence of this name
    trigger_birthday: int | None = None  # or: this birthday (years), not before trigger_fields
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    met_when_field: str | None = None  # a non-blank client field satisfies the rule
    evidence_from_month_start: bool = False  # evidence counts from the 1st of the trigger month
    # rolling
    last: tuple[str, ...] = ()
    fallback: str | None = None
    mode_setting: str | None = None
    suspended_by_planned_gap: Any = False  # bool or "@Setting"
    suspended_by_future_service: bool = False
    # monthly
    period: Period | None = None
    count: Count | None = None
    # per_event: each row of `each` starts a deadline (with `pattern`: once the pattern is
    # reached); each row of `also_each` starts one without a pattern. One start per case and
    # event date (the evidence's period date), however many records of it there are.
    each: tuple[str, ...] = ()
    also_each: tuple[str, ...] = ()
    due_field: str | None = None
    pattern_count: Any = None
    pattern_window: Any = None
    # applicability
    when: Mapping[str, Any] = field(default_factory=dict)
    open_only: bool = True

    @property
    def evidence_names(self) -> tuple[str, ...]:
        names = [*self.any_of, *self.all_of, *self.last]
        names += [n for n in (self.trigger_first,) if n] + [*self.each, *self.also_each]
        if self.count:
            names.append(self.count.evidence)
        return tuple(dict.fromkeys(names))

    @classmethod
    def clock_only(cls, d: Mapping[str, Any]) -> Rule:
        """A deadline whose status something else decides (a flow's clock, the letters'
        same-day call): its id, source, texts and clock."""
        return cls(
            id=d["id"],
            source=d["source"],
            title=d["title"],
            kind="deadline",
            reference=d["reference"],
            phrase=d["phrase"],
            clock=Clock.from_dict(d["clock"]),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rule:
        kind = d["kind"]
        trigger = d.get("trigger", [])
        trigger_fields: tuple[str, ...] = ()
        trigger_first = trigger_birthday = None
        if isinstance(trigger, list):
            trigger_fields = tuple(trigger)
        elif "first" in trigger:
            trigger_first = trigger["first"]
        elif "birthday" in trigger:
            trigger_birthday = int(trigger["birthday"])
            trigger_fields = tuple(trigger.get("not_before", ()))  # the birthday, or later
        count = None
        if "count" in d:
            c = d["count"]
            count = Count(c["evidence"], c.get("min", 1), c.get("methods", 0))
        clock_data = d.get("clock") or d.get("due")
        last = d.get("last", ())
        pattern = d.get("pattern", {})
        rule = cls(
            id=d["id"],
            source=d["source"],
            title=d["title"],
            kind=kind,
            reference=d.get("reference", ""),
            phrase=d.get("phrase", d["title"]),
            clock=Clock.from_dict(clock_data) if clock_data else None,
            trigger_fields=trigger_fields,
            trigger_first=trigger_first,
            trigger_birthday=trigger_birthday,
            any_of=tuple(d.get("any_of", ())),
            all_of=tuple(d.get("all_of", ())),
            met_when_field=d.get("met_when_field"),
            evidence_from_month_start=d.get("evidence_from_month_start", False),
            last=(last,) if isinstance(last, str) else tuple(last),
            fallback=d.get("fallback"),
            mode_setting=d.get("mode_setting"),
            suspended_by_planned_gap=d.get("suspended_by_planned_gap", False),
            suspended_by_future_service=d.get("suspended_by_future_service", False),
            period=d.get("period"),
            count=count,
            each=_names(d.get("each", ())),
            also_each=_names(d.get("also_each", ())),
            due_field=d.get("due_field"),
            pattern_count=pattern.get("count"),
            pattern_window=pattern.get("window_days"),
            when=dict(d.get("when", {})),
            open_only=d.get("open_only", True),
        )
        rule._check()
        return rule

    def _check(self) -> None:
        problems = []
        if self.kind not in RuleKind.__args__:  # type: ignore[attr-defined]
            problems.append(f"unknown kind {self.kind!r}")
        if self.period is not None and self.period not in Period.__args__:  # type: ignore[attr-defined]
            problems.append(f"unknown period {self.period!r}")
        named = {*self.trigger_fields, *self.when}
        named |= {f for f in (self.fallback, self.met_when_field) if f}
        for unknown in sorted(named - CLIENT_FIELDS):
            problems.append(f"clients have no field {unknown!r}")
        if self.clock is None:
            problems.append("no clock")
        if self.kind == "deadline" and not (
            self.trigger_fields or self.trigger_first or self.trigger_birthday
        ):
            problems.append("a deadline needs a trigger")
        if self.kind == "deadline" and not (
            self.any_of or self.all_of or self.met_when_field or self.count
        ):
            problems.append("a deadline needs evidence (any_of, all_of, count or met_when_field)")
        if self.kind == "rolling" and not self.last:
            problems.append("a rolling rule needs `last`")
        if self.kind == "monthly" and not (self.period and self.count):
            problems.append("a monthly rule needs a period and a count")
        if self.kind == "per_event" and not (self.each and self.any_of):
            problems.append("a per_event rule needs `each` and `any_of`")
        if problems:
            raise PolicyError(f"rule {self.id}: {'; '.join(problems)}")


def _names(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class RuleBook:
    rules: Mapping[str, Rule]
    evidence: Mapping[str, Evidence]
    packs: Mapping[str, tuple[str, ...]]  # program -> rule ids

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleBook:
        evidence = {n: Evidence.from_dict(n, d) for n, d in data.get("evidence", {}).items()}
        rules = {}
        for d in data.get("rule", []):
            rule = Rule.from_dict(d)
            if rule.id in rules:
                raise PolicyError(f"rule {rule.id} is defined twice")
            missing = [n for n in rule.evidence_names if n not in evidence]
            if missing:
                raise PolicyError(f"rule {rule.id}: unknown evidence {', '.join(missing)}")
            rules[rule.id] = rule
        packs = {program: tuple(ids) for program, ids in data.get("packs", {}).items()}
        for program, ids in packs.items():
            unknown = [i for i in ids if i not in rules]
            if unknown:
                raise PolicyError(f"pack {program}: unknown rules {', '.join(unknown)}")
        return cls(rules, evidence, packs)

    def rules_for(self, program: str) -> tuple[Rule, ...]:
        return tuple(self.rules[i] for i in self.packs.get(program, ()))
