"""``tickets.yml``: how complaints become tickets — categories, teams, priorities and SLAs.

```yaml
version: 1
categories:                      # checked in this order; the first whose words appear wins
  - id: damaged                  # [a-z0-9_]+
    name: {id: "Barang rusak/cacat", en: "Damaged or defective item"}
    team: aftersales             # who handles it
    priority: high               # the starting priority (low | normal | high | urgent)
    words: [rusak, sobek, cacat, luntur, damaged, broken, torn]
  - id: other                    # the last category without words catches everything else
    name: {id: "Lainnya", en: "Other"}
    team: cs
    priority: normal
teams:
  - id: cs
    name: Customer Service
  - id: aftersales
    name: After-sales
    regions:                     # optional: a team per shipping zone of the customer's city
      jawa: aftersales_jawa
priorities:                      # SLA per priority: first response and resolution
  urgent: {first_response_minutes: 15, resolution_hours: 4}
  high:   {first_response_minutes: 60, resolution_hours: 24}
  normal: {first_response_minutes: 240, resolution_hours: 72}
  low:    {first_response_minutes: 1440, resolution_hours: 168}
rules:                           # what raises a ticket's priority (see bot/tickets/classify.py)
  angry_words: [kecewa, marah, parah, kapok, lama banget, disappointed, angry, terrible]
  fraud_words: [penipuan, nipu, tipu, scam, lapor polisi, fraud]   # → urgent
  repeat_contact_days: 7         # another ticket in this many days → one level up
  high_value_order: 1000000      # an order worth at least this (rupiah) → one level up
max_open_per_agent: 5            # automatic assignment stops at this many open conversations
```

A data dir without the file gets :func:`default_ticket_config` (the categories the
shops asked for, one team). ``sapa check`` reports every mistake as FILE:LINE.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.nodes import MappingNode

from .problems import Problems
from .yamlio import Field, bilingual, integer, mapping, read_yaml, sequence, text, version

PRIORITIES = ("low", "normal", "high", "urgent")
_ID = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Category:
    id: str
    name: dict[str, str]
    team: str
    priority: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Team:
    id: str
    name: str  # as the console shows it (Indonesian)
    regions: dict[str, str] = field(default_factory=dict)  # shipping zone → team id
    region_lines: dict[str, int] = field(default_factory=dict, compare=False)  # zone → its line, for messages
    names: dict[str, str] = field(default_factory=dict)  # lang → name, as customers read it

    def name_in(self, lang: str) -> str:
        """The team's name for a customer writing ``lang`` ("Keuangan" / "Finance")."""
        return self.names.get(lang) or self.name


@dataclass(frozen=True)
class Sla:
    first_response_minutes: int
    resolution_hours: int


@dataclass(frozen=True)
class PriorityRules:
    angry_words: tuple[str, ...] = ()
    fraud_words: tuple[str, ...] = ()
    repeat_contact_days: int = 7
    high_value_order: int = 1_000_000


@dataclass(frozen=True)
class TicketConfig:
    categories: tuple[Category, ...]
    teams: tuple[Team, ...]
    slas: dict[str, Sla]
    rules: PriorityRules
    max_open_per_agent: int = 5

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    @property
    def fallback(self) -> Category:
        """The category for a complaint no category's words describe."""
        return next((c for c in reversed(self.categories) if not c.words), self.categories[-1])


def default_ticket_config() -> TicketConfig:
    """The categories the shops asked for, handled by one customer-service team."""
    def cat(cid: str, id_name: str, en_name: str, priority: str, words: str = "") -> Category:
        return Category(cid, {"id": id_name, "en": en_name}, "cs", priority, tuple(w for w in words.split(",") if w))

    return TicketConfig(
        categories=(
            cat("damaged", "Barang rusak/cacat", "Damaged or defective item", "high",
                "rusak,cacat,sobek,robek,luntur,bolong,pecah,patah,kotor,noda,jahitan lepas,damaged,broken,torn,defective,stain"),
            cat("wrong_item", "Barang salah/tidak sesuai", "Wrong item", "normal",
                "salah kirim,salah barang,tidak sesuai,ga sesuai,gak sesuai,beda warna,beda ukuran,kurang,wrong item,wrong size,wrong colour,missing"),
            cat("late_delivery", "Pengiriman terlambat/hilang", "Late or lost delivery", "normal",
                "belum sampai,blm sampai,belum datang,terlambat,telat,lama sampai,hilang,nyasar,resi tidak,late,not arrived,lost,delayed"),
            cat("payment", "Masalah pembayaran", "Payment problem", "high",
                "belum diverifikasi,transfer belum,dana,terpotong,double transfer,salah transfer,saldo,payment,charged twice"),
            cat("refund_return", "Refund/retur", "Refund or return", "normal",
                "refund,retur,return,tukar,kembalikan,uang kembali,pengembalian,exchange,money back"),
            cat("service", "Pelayanan", "Service", "normal",
                "pelayanan,admin,slow respon,lama balas,tidak dibalas,ga dibalas,jutek,kasar,service,rude,no reply"),
            cat("other", "Lainnya", "Other", "normal"),
        ),
        teams=(Team("cs", "Customer Service"),),
        slas=dict(DEFAULT_SLAS),
        rules=PriorityRules(
            angry_words=("kecewa", "marah", "parah", "kapok", "kesal", "kesel", "lama banget", "nyesel",
                         "disappointed", "angry", "terrible", "worst", "unacceptable"),
            fraud_words=("penipuan", "penipu", "nipu", "tipu", "scam", "lapor polisi", "polisi", "ylki", "fraud"),
        ),
    )


DEFAULT_SLAS = {
    "urgent": Sla(15, 4),
    "high": Sla(60, 24),
    "normal": Sla(240, 72),
    "low": Sla(1440, 168),
}
TOP_KEYS = ("version", "categories", "teams", "priorities", "rules", "max_open_per_agent")


def read_tickets_file(
    path: Path, probs: Problems, *, shipping_file: str | None = None, zones: frozenset[str] | None = None
) -> TicketConfig | None:
    """``shipping_file``/``zones``: the data dir's shipping.yml and its zones, which teams'
    ``regions`` name (``zones`` None when that file has errors of its own: not checked then)."""
    root = read_yaml(path, probs)
    if root is None:
        return None
    fields = mapping(probs, root, "tickets.yml", allowed=TOP_KEYS, required=("version", "categories", "teams"))
    if fields is None:
        return None
    version(probs, fields, "1")
    before = len(probs.sink)
    teams = _teams(probs, fields["teams"]) if "teams" in fields else []
    team_ids = {t.id for t in teams}
    categories = _categories(probs, fields["categories"], team_ids) if "categories" in fields else []
    for team in teams:
        for zone, other in team.regions.items():
            _check_region_zone(probs, team, zone, shipping_file, zones)
            if other not in team_ids:
                probs.error(
                    team.region_lines.get(zone, fields["teams"].line),
                    f"team '{team.id}' sends region '{zone}' to unknown team '{other}'; "
                    f"teams: {', '.join(sorted(team_ids))}",
                )
    slas = dict(DEFAULT_SLAS)
    if "priorities" in fields:
        slas.update(_slas(probs, fields["priorities"]))
    rules = _rules(probs, fields["rules"]) if "rules" in fields else default_ticket_config().rules
    limit = 5
    if "max_open_per_agent" in fields:
        limit = integer(probs, fields["max_open_per_agent"], "max_open_per_agent", minimum=1) or 5
    if categories and all(c.words for c in categories):
        probs.error(fields["categories"].line, "the last category needs no words: it catches every other complaint")
    if len(probs.sink) > before or not categories or not teams:
        return None
    return TicketConfig(tuple(categories), tuple(teams), slas, rules, limit)


def _check_region_zone(
    probs: Problems, team: Team, zone: str, shipping_file: str | None, zones: frozenset[str] | None
) -> None:
    """A region is a zone of shipping.yml: a mistyped one silently routes no ticket."""
    line = team.region_lines.get(zone, 0)
    if shipping_file is None:
        probs.warning(
            line,
            f"team '{team.id}' has regions, but there is no shipping.yml whose zones they could name; "
            "they never apply",
        )
    elif zones is not None and zone not in zones:
        close = difflib.get_close_matches(zone, sorted(zones), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        probs.error(
            line,
            f"team '{team.id}' names region '{zone}', which is not a zone of {shipping_file}{hint}; "
            f"zones: {', '.join(sorted(zones))}",
        )


def _teams(probs: Problems, f: Field) -> list[Team]:
    teams: list[Team] = []
    for node in sequence(probs, f, "teams") or []:
        line = node.start_mark.line + 1
        fields = mapping(probs, node, "a team", line=line, allowed=("id", "name", "regions"), required=("id", "name"))
        if fields is None or "id" not in fields or "name" not in fields:
            continue
        team_id = _ident(probs, fields["id"], "team id")
        # A plain name serves both languages; {id: Keuangan, en: Finance} names it in each.
        if isinstance(fields["name"].node, MappingNode):
            names = bilingual(probs, fields["name"], f"name of team '{team_id}'") or {}
            name = names.get("id")
        else:
            names = {}
            name = text(probs, fields["name"], "team name")
        regions: dict[str, str] = {}
        region_lines: dict[str, int] = {}
        if "regions" in fields:
            entries = mapping(probs, fields["regions"].node, "regions", line=fields["regions"].line)
            for zone, target in (entries or {}).items():
                value = text(probs, target, f"team for region '{zone}'")
                if value:
                    regions[zone] = value
                    region_lines[zone] = target.key_line
        if team_id and name:
            if any(t.id == team_id for t in teams):
                probs.error(fields["id"].line, f"duplicate team id '{team_id}'")
                continue
            teams.append(Team(team_id, name, regions, region_lines, names))
    return teams


def _categories(probs: Problems, f: Field, team_ids: set[str]) -> list[Category]:
    categories: list[Category] = []
    for node in sequence(probs, f, "categories") or []:
        line = node.start_mark.line + 1
        fields = mapping(
            probs, node, "a category", line=line,
            allowed=("id", "name", "team", "priority", "words"), required=("id", "name", "team", "priority"),
        )
        if fields is None or not {"id", "name", "team", "priority"} <= set(fields):
            continue
        cid = _ident(probs, fields["id"], "category id")
        name = bilingual(probs, fields["name"], f"name of category '{cid}'")
        team = text(probs, fields["team"], "team")
        if team is not None and team not in team_ids:
            probs.error(fields["team"].line, f"category '{cid}' names unknown team '{team}'; teams: {', '.join(sorted(team_ids))}")
            team = None
        priority = text(probs, fields["priority"], "priority")
        if priority is not None and priority not in PRIORITIES:
            probs.error(fields["priority"].line, f"priority must be one of {', '.join(PRIORITIES)}, got '{priority}'")
            priority = None
        words = _words(probs, fields["words"], "words") if "words" in fields else ()
        if cid and name and team and priority:
            if any(c.id == cid for c in categories):
                probs.error(fields["id"].line, f"duplicate category id '{cid}'")
                continue
            categories.append(Category(cid, name, team, priority, words))
    return categories


def _slas(probs: Problems, f: Field) -> dict[str, Sla]:
    slas: dict[str, Sla] = {}
    entries = mapping(probs, f.node, "priorities", line=f.line, allowed=PRIORITIES)
    for name, entry in (entries or {}).items():
        fields = mapping(
            probs, entry.node, f"priority '{name}'", line=entry.line,
            allowed=("first_response_minutes", "resolution_hours"),
            required=("first_response_minutes", "resolution_hours"),
        )
        if fields is None or len(fields) < 2:
            continue
        first = integer(probs, fields["first_response_minutes"], "first_response_minutes", minimum=1)
        resolve = integer(probs, fields["resolution_hours"], "resolution_hours", minimum=1)
        if first and resolve:
            slas[name] = Sla(first, resolve)
    return slas


def _rules(probs: Problems, f: Field) -> PriorityRules:
    fields = mapping(
        probs, f.node, "rules", line=f.line,
        allowed=("angry_words", "fraud_words", "repeat_contact_days", "high_value_order"),
    ) or {}
    defaults = default_ticket_config().rules
    return PriorityRules(
        angry_words=_words(probs, fields["angry_words"], "angry_words") if "angry_words" in fields else defaults.angry_words,
        fraud_words=_words(probs, fields["fraud_words"], "fraud_words") if "fraud_words" in fields else defaults.fraud_words,
        repeat_contact_days=(integer(probs, fields["repeat_contact_days"], "repeat_contact_days") or 0)
        if "repeat_contact_days" in fields else defaults.repeat_contact_days,
        high_value_order=(integer(probs, fields["high_value_order"], "high_value_order", unit=" of rupiah") or 0)
        if "high_value_order" in fields else defaults.high_value_order,
    )


def _words(probs: Problems, f: Field, what: str) -> tuple[str, ...]:
    words = []
    for node in sequence(probs, f, what) or []:
        value = str(getattr(node, "value", "")).strip().lower()
        if value:
            words.append(value)
    return tuple(words)


def _ident(probs: Problems, f: Field, what: str) -> str | None:
    value = text(probs, f, what)
    if value is not None and not _ID.match(value):
        probs.error(f.line, f"{what} '{value}' must be lowercase letters, digits and _")
        return None
    return value
