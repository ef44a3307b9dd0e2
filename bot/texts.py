"""The bot's own words in both languages, with a data dir's overrides on top."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Mapping

import yaml

from bot.types import Lang


def _package_texts() -> dict[str, dict[str, str]]:
    """``bot/resources/texts.yml`` plus one ``texts_<part>.yml`` per feature (orders, telegram...)."""
    table: dict[str, dict[str, str]] = {}
    files = sorted(
        (f for f in resources.files("bot.resources").iterdir() if f.name.startswith("texts") and f.name.endswith(".yml")),
        key=lambda f: (f.name != "texts.yml", f.name),
    )
    for f in files:
        table.update(yaml.safe_load(f.read_text("utf-8"))["texts"])
    return table


def package_text_keys() -> frozenset[str]:
    """Every key a data dir's ``texts.yml`` may override."""
    return frozenset(_package_texts())


class _KeepMissing(dict):
    """Leaves an unknown ``{placeholder}`` as it is instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Texts:
    """Looks up a text by key and language and fills in its placeholders."""

    table: Mapping[str, Mapping[str, str]]
    defaults: Mapping[str, str]

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
        **defaults: str,
    ) -> "Texts":
        table = _package_texts()
        for key, by_lang in (overrides or {}).items():
            table[key] = {**table.get(key, {}), **by_lang}
        return cls(table=table, defaults=defaults)

    def get(self, key: str, lang: Lang, **values: str) -> str:
        by_lang = self.table[key]
        template = by_lang.get(lang) or by_lang.get("id") or next(iter(by_lang.values()))
        return self.fill(template, **values)

    def fill(self, template: str, **values: str) -> str:
        """``template`` with its ``{placeholders}`` filled; a stray brace leaves it as written."""
        try:
            return template.format_map(_KeepMissing({**self.defaults, **values})).strip()
        except (ValueError, IndexError, AttributeError):
            return template.strip()
