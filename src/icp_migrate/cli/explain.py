"""`icp-migrate explain KEY`: an entity or a record as the target holds it, and why."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..masking import printable
from .output import guarded, out
from .store import target_engine
from .tables import cell_text


def explain(
    key: Annotated[str, typer.Argument(
        metavar="KEY", help="a website or entity filing number, an entity id (ent_…), an "
        "account id (acc_…), or SOURCE:LINE (hichina_beian.csv:12)")],
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object instead of tables")]
    = False,
) -> None:
    """Explain an entity or a record: its certificate (masked), the records that joined it
    and how, each record's disposition and reasons, its conflicts, accounts and changes."""
    def body() -> None:
        from ..pipeline.explain import gather

        with target_engine(target) as engine:
            model = gather(engine, key)
        if as_json:
            sys.stdout.write(json.dumps(model, ensure_ascii=False, indent=2) + "\n")
        else:
            print_explanation(out, model)

    guarded(body)


def _cell(value: object) -> Text:
    """A value as inert text: no markup, no control characters."""
    if isinstance(value, list):
        return Text(printable(", ".join(cell_text(v) for v in value)))
    return Text(printable(cell_text(value)))


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...],
           whole: tuple[str, ...] = ()) -> Table:
    """Columns named in `whole` (ids) are never wrapped or cut: they get pasted."""
    table = Table(title=title, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in whole, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


def _line(console: Console, text: str, indent: int = 0) -> None:
    """One line, never wrapped by us (ids stay whole), as inert text."""
    console.print(Text(" " * indent + printable(text)), soft_wrap=True, highlight=False)


def where(source: str | None, locator: str | None) -> str:
    """A record as `explain` takes it back: the source's file name, a colon, the locator."""
    name = (source or "").replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}:{locator}"


def print_explanation(console: Console, model: dict[str, Any]) -> None:
    entity = model["entity"]
    if entity is None:
        _line(console, f"{model['key']['key']}: no entity holds it; as the latest run left it:")
    else:
        facts = Table(title=Text(printable(f"entity {entity['entity_id']}")), show_header=False,
                      title_justify="left")
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column()
        for name in ("entity_type", "name", "aliases", "cert_type", "cert_number", "province",
                     "entity_filing_number", "has_cloud_resources", "resources_admin_differs"):
            facts.add_row(name, _cell(entity[name]))
        console.print(facts)
        accounts = [{**a, "websites": ", ".join(w["website_filing_number"] for w in a["websites"])}
                    for a in model["accounts"]]
        if accounts:
            console.print(_table("accounts", accounts, (
                "account_id", "account_kind", "real_name_verification_required", "admin_email",
                "why", "websites"), whole=("account_id", "account_kind")))
        else:
            _line(console, "accounts: none (the entity is not loaded)")
    _records(console, model)
    _conflicts(console, model["conflicts"])
    if model["changes"]:
        console.print(_table("changes", model["changes"], (
            "run_id", "subject", "subject_key", "field", "old_value", "new_value", "cause"),
            whole=("run_id", "subject_key")))
    else:
        _line(console, "changes: none")


def _records(console: Console, model: dict[str, Any]) -> None:
    for title, records in (("the record", model["key"].get("records") or []),
                           ("records (each as its latest run left it)", model["records"])):
        if not records:
            continue
        _line(console, f"{title}:")
        for r in records:
            _line(console, f"{where(r['source'], r['locator'])}  "
                  f"{r['website_filing_number'] or '(no website number)'}  {r['disposition']} "
                  f"({r['step']})  run {r['run_id']}", 2)
            if r["link_kind"]:
                _line(console, f"joined {r['entity_id']} by {r['link_kind']}: {r['link_key']}", 6)
            for name in ("reasons", "warnings"):
                if r[name]:
                    _line(console, f"{name}: {r[name]}", 6)
            if r["conflict_id"]:
                _line(console, f"held in {r['conflict_id']}; candidates: "
                      + ", ".join(r["candidates"]), 6)


def _conflicts(console: Console, conflicts: list[dict[str, Any]]) -> None:
    if not conflicts:
        _line(console, "conflicts: none")
        return
    _line(console, "conflicts:")
    for c in conflicts:
        state = (f"decided {c['decision']}{':' + c['chosen'] if c['chosen'] else ''} by "
                 f"{c['decided_by']} at {c['decided_at']}" if c["decision"] else "open")
        _line(console, f"{c['conflict_id']} ({c['kind']}, opened by run {c['opened_run_id']}): "
              f"{state}", 2)
        for k in c["competitors"]:
            _line(console, f"{k['claimant']}  {k['cert_type'] or ''} {k['cert_number']}  "
                  f"{k['name'] or ''}  websites: {k['websites'] or '-'}", 6)
