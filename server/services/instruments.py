"""Feedback instruments as data: one JSON file per instrument version.

Følge ships two instruments written for it (server/instruments/). A clinic
that holds a licence for another instrument adds its file to the folder named
by FOLGE_INSTRUMENTS_DIR; no code changes. A file holds a key, a version, the
texts in nb, nn and en, 0-10 items, which item is "overall" (used for a
one-number SMS reply) and the alert rule:

- ``{"rule": "drop", "default": 5}``: alert when the total falls by at least
  this many points since the patient's previous answer to the instrument;
- ``{"rule": "below", "default": 36}``: alert when the total is under this;
- ``{"rule": "none"}``.

A response keeps the key and version it answered, so an old answer is always
read against the questions it answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from server.models.user import LANGUAGES

BUILT_IN = Path(__file__).resolve().parent.parent / "instruments"
RULES = ("drop", "below", "none")
SCALE = range(0, 11)


class InstrumentError(ValueError):
    """An instrument file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Item:
    key: str
    text: dict[str, str]


@dataclass(frozen=True)
class Instrument:
    key: str
    version: int
    title: dict[str, str]
    intro: dict[str, str]
    items: tuple[Item, ...]
    low: dict[str, str]
    high: dict[str, str]
    overall_item: str
    alert_rule: str
    alert_default: int

    @property
    def max_total(self) -> int:
        return 10 * len(self.items)

    @property
    def item_keys(self) -> list[str]:
        return [item.key for item in self.items]

    def text(self, value: dict[str, str], language: str) -> str:
        return value.get(language) or value["nb"]


def _texts(data: dict[str, object], field: str, where: str) -> dict[str, str]:
    value = data.get(field)
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or
                                          not value[lang].strip() for lang in LANGUAGES):
        raise InstrumentError(f"{where}: '{field}' needs a text in each of {', '.join(LANGUAGES)}")
    return {lang: value[lang] for lang in LANGUAGES}


def parse(data: dict[str, object], where: str) -> Instrument:
    """Check one instrument file's content and build the Instrument."""
    key, version = data.get("key"), data.get("version")
    if not isinstance(key, str) or not key.isidentifier():
        raise InstrumentError(f"{where}: 'key' must be a short name like how_are_things")
    if not isinstance(version, int) or version < 1:
        raise InstrumentError(f"{where}: 'version' must be a whole number from 1")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= 10:
        raise InstrumentError(f"{where}: 'items' must list 1 to 10 items")
    items = []
    for n, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            raise InstrumentError(f"{where}: item {n} needs a 'key'")
        items.append(Item(raw["key"], _texts(raw, "text", f"{where} item {raw['key']}")))
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise InstrumentError(f"{where}: item keys must differ")
    overall = data.get("overall_item", keys[-1])
    if overall not in keys:
        raise InstrumentError(f"{where}: 'overall_item' must be one of the item keys")
    alert = data.get("alert") or {"rule": "none"}
    rule = alert.get("rule") if isinstance(alert, dict) else None
    if rule not in RULES:
        raise InstrumentError(f"{where}: alert rule must be one of {', '.join(RULES)}")
    default = alert.get("default", 0) if isinstance(alert, dict) else 0
    if not isinstance(default, int):
        raise InstrumentError(f"{where}: the alert default must be a whole number")
    return Instrument(
        key=key, version=version, title=_texts(data, "title", where),
        intro=_texts(data, "intro", where), items=tuple(items), low=_texts(data, "low", where),
        high=_texts(data, "high", where), overall_item=str(overall), alert_rule=str(rule),
        alert_default=default)


def load_folder(folder: Path) -> dict[tuple[str, int], Instrument]:
    found: dict[tuple[str, int], Instrument] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InstrumentError(f"{path.name}: not readable JSON ({exc})") from exc
        instrument = parse(data, path.name)
        found[(instrument.key, instrument.version)] = instrument
    return found


def _all() -> dict[tuple[str, int], Instrument]:
    """Every instrument version, loaded once per app."""
    cached = current_app.extensions.get("folge_instruments")
    if cached is None:
        cached = load_folder(BUILT_IN)
        extra = current_app.config["FOLGE"].instruments_dir
        if extra:
            cached.update(load_folder(Path(extra)))
        current_app.extensions["folge_instruments"] = cached
    return cached  # type: ignore[no-any-return]


def current() -> list[Instrument]:
    """The newest version of each instrument, built-in ones first, then by key."""
    newest: dict[str, Instrument] = {}
    for (key, version), instrument in _all().items():
        if key not in newest or version > newest[key].version:
            newest[key] = instrument
    order = {"how_are_things": 0, "how_was_the_meeting": 1}
    return sorted(newest.values(), key=lambda i: (order.get(i.key, 2), i.key))


def every_version() -> list[Instrument]:
    """Every instrument in every version there is, by key and version (the FHIR
    interface's Questionnaires)."""
    return [found for _, found in sorted(_all().items())]


def latest(key: str) -> Instrument | None:
    return next((i for i in current() if i.key == key), None)


def get(key: str, version: int) -> Instrument | None:
    return _all().get((key, version))
