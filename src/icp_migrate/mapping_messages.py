"""What a mapping's author is told (`icp_migrate.mapping` loads and checks the files): the
YAML line of the key an error is about, the valid names beside an unknown one, and, once per
mapping, the fields the rules use that it leaves unmapped."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from .mapping import Mapping

log = logging.getLogger("icp_migrate")

# fields the rules read that a layout may leave out, and what is lost without them
RULE_FIELDS = {
    "province": "organizations without a valid certificate are grouped by name within a "
                "province",
    "entity_filing_number": "records without a valid certificate join by filing number",
    "has_cloud": "entities with cloud resources get a resources account",
    "cloud_admin_email": "a resources account of its own when its admin differs",
    "admin_email": "a resources account of its own when its admin differs",
}
_WARNED: set[str] = set()


def valid_names(name: str, valid: Iterable[str]) -> str:
    """`(did you mean 'province'? valid: a, b, …)` for an unknown `name`."""
    names = list(valid)
    close = difflib.get_close_matches(name, names, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"({guess}valid: {', '.join(names)})"


def key_line(text: str, key: str) -> int | None:
    """The 1-based line of a dotted key (`fields.nope`, `required.province`) in a mapping
    file's YAML: the key itself, or the deepest part of its path the file has (`sql` for a
    missing `sql.query`); None when not even the first part is there."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = None
    for part in key.split("."):
        found = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and str(key_node.value) == part:
                    found = (key_node, value_node)
        elif isinstance(node, yaml.SequenceNode):
            found = next(((item, item) for item in node.value
                          if isinstance(item, yaml.ScalarNode) and item.value == part), None)
        if found is None:
            return line
        line = found[0].start_mark.line + 1
        node = found[1]
    return line


def warn_unmapped(mapping: Mapping) -> None:
    """Log once per mapping (by file) the rule fields it neither maps nor sets constant."""
    unmapped = [f for f in RULE_FIELDS if f not in mapping.fields and f not in mapping.constants]
    where = str(mapping.path)
    if not unmapped or where in _WARNED:
        return
    _WARNED.add(where)
    told = "; ".join(f"{f} ({RULE_FIELDS[f]})" for f in unmapped)
    log.warning("mapping %s (%s) leaves unmapped fields the rules use: %s; map them under "
                "fields: (or constants:) if the source has them", mapping.name, where, told)


def vocabulary_key(field: str, layout: str | None) -> str:
    """Where to add a value of `field` that the vocabulary does not know."""
    mapping = f"mapping {layout}" if layout else "the mapping"
    return f"add it under values.{field} in {mapping} (or _vocabulary.yaml)"
