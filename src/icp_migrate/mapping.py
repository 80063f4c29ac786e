"""Mapping files: how one legacy layout's fields become the canonical record.

A mapping is data: the built-in layouts (the repository's top-level `mappings/*.yaml`,
installed as the package `icp_migrate.mappings`), the layouts of the user's folder
($ICP_MIGRATE_MAPPINGS, see `available_mappings`), or any YAML file given with
`--mapping FILE`. Each is loaded into a typed `Mapping` and checked before use: invalid
YAML, an unknown key, an unknown canonical field or a missing reader option is a
`MappingError` naming the file, the key and its line, with the valid names beside an unknown
one; a mapping leaving out a field the rules use is logged once (`mapping_messages`).
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from . import settings
from .canonical import RAW_FIELDS
from .errors import MappingError
from .mapping_messages import key_line, valid_names, warn_unmapped
from .mapping_model import CsvOptions, Mapping, ReaderKind, SqlOptions, value_key

log = logging.getLogger("icp_migrate")
__all__ = ["MAPPINGS_DIR", "VOCABULARY_FILE", "CsvOptions", "Mapping", "ReaderKind",
           "SqlOptions", "available_mappings", "builtin_mappings", "load_mapping",
           "resolve_mapping", "user_mappings", "value_key"]  # the model: mapping_model
MAPPINGS_DIR = Path(str(files("icp_migrate.mappings")))  # the built-in layouts
VOCABULARY_FILE = MAPPINGS_DIR / "_vocabulary.yaml"
_TOP_KEYS = {"name", "description", "reader", "csv", "sql", "detect", "fields", "constants",
             "values", "required"}


def _fail(shown: str, key: str, why: str) -> MappingError:
    error = MappingError(f"mapping {shown}: {key}: {why}")
    error.mapping_key, error.why = key, why  # type: ignore[attr-defined]  # for the line
    return error


def _as_tuple(shown: str, key: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise _fail(shown, key, "expected a column name or a list of column names")
    return tuple(items)


def _yaml(text: str) -> Any:
    """yaml.safe_load, with libyaml's C parser when PyYAML has it (the vocabulary is long)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


@cache
def _vocabulary() -> dict[str, dict[str, str]]:
    data = _yaml(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return {f: {value_key(str(k)): str(v) for k, v in m.items()} for f, m in data.items()}


def _yaml_error(exc: yaml.YAMLError) -> str:
    """The YAML error's kind and line (never the text it quotes)."""
    mark = getattr(exc, "problem_mark", None)
    return exc.__class__.__name__ + (f" at line {mark.line + 1}" if mark is not None else "")


def load_mapping(path: Path, shown: str | None = None) -> Mapping:
    """Read and check one mapping file; errors name it as `shown` (default: its name)."""
    shown = shown or path.name
    try:
        text = path.read_text(encoding="utf-8")
        data = _yaml(text)
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {shown}: not valid YAML ({_yaml_error(exc)})") from None
    if not isinstance(data, dict):
        raise _fail(shown, "(top)", "expected a mapping of keys")
    try:
        mapping = _checked(path, shown, data)
    except (AttributeError, TypeError) as exc:  # a list or a value where a map belongs
        raise _fail(shown, "(structure)", f"not a mapping file ({type(exc).__name__})") from None
    except MappingError as exc:  # the offending key's line, when the file has it
        key = getattr(exc, "mapping_key", "")
        line = key_line(text, key) if key else None
        if line is None:
            raise
        raise MappingError(f"mapping {shown}: {key} (line {line}): "
                           f"{getattr(exc, 'why', '')}") from None
    warn_unmapped(mapping)
    return mapping


def _checked(path: Path, shown: str, data: dict[str, Any]) -> Mapping:
    unknown = sorted(map(str, set(data) - _TOP_KEYS))
    if unknown:
        raise _fail(shown, unknown[0], "unknown key " + valid_names(unknown[0], sorted(_TOP_KEYS)))
    for key in ("name", "reader", "fields"):
        if key not in data:
            raise _fail(shown, key, "required")
    reader = data["reader"]
    if reader not in ("csv", "jsonl", "sql"):
        raise _fail(shown, "reader", f"must be csv, jsonl or sql, not {reader!r}")
    raw_fields = data["fields"] or {}
    fields = {}
    for name, columns in raw_fields.items():
        if name not in RAW_FIELDS:
            raise _fail(shown, f"fields.{name}", _not_a_field(name))
        fields[name] = _as_tuple(shown, f"fields.{name}", columns)
    if "website_filing_number" not in fields:
        raise _fail(shown, "fields.website_filing_number", "required")
    constants = {str(k): str(v) for k, v in (data.get("constants") or {}).items()}
    for name in constants:
        if name not in RAW_FIELDS:
            raise _fail(shown, f"constants.{name}", _not_a_field(name))
    values = {f: dict(m) for f, m in _vocabulary().items()}
    for name, table in (data.get("values") or {}).items():
        if name not in RAW_FIELDS:
            raise _fail(shown, f"values.{name}", _not_a_field(name))
        if not isinstance(table, dict):
            raise _fail(shown, f"values.{name}", "expected a value map (legacy value: ours)")
        values.setdefault(name, {}).update({value_key(str(k)): str(v) for k, v in table.items()})
    detect = data.get("detect") or {}
    options = _reader_options(shown, reader, data)
    detect_columns = tuple(detect.get("columns") or detect.get("keys") or ())
    detect_tables = tuple(detect.get("tables") or ())
    if not (detect_columns or detect_tables):
        raise _fail(shown, "detect", "needs columns (csv), keys (jsonl) or tables (sql)")
    required = tuple(data.get("required") or ("website_filing_number",))
    for name in required:
        if name not in fields:
            raise _fail(shown, f"required.{name}", "not a mapped field "
                        + valid_names(str(name), list(fields)))
    return Mapping(
        required=required, name=str(data["name"]),
        description=str(data.get("description", "")), reader=reader,
        path=path, fields=fields, detect_columns=detect_columns, detect_tables=detect_tables,
        constants=constants, values=values, **options,
    )


def _not_a_field(name: object) -> str:
    return "not a canonical field " + valid_names(str(name), RAW_FIELDS)


def _reader_options(shown: str, reader: str, data: dict[str, Any]) -> dict[str, Any]:
    if reader == "csv":
        opts = data.get("csv") or {}
        encodings = tuple(opts.get("encodings") or ("utf-8", "gb18030"))
        delimiter = str(opts.get("delimiter", ","))
        if len(delimiter) != 1:
            raise _fail(shown, "csv.delimiter", "must be one character")
        return {"csv": CsvOptions(delimiter, str(opts.get("quotechar", '"')), encodings)}
    if reader == "sql":
        opts = data.get("sql") or {}
        for key in ("query", "key", "locator"):
            if not opts.get(key):
                raise _fail(shown, f"sql.{key}", "required for reader sql")
        return {"sql": SqlOptions(str(opts["query"]), str(opts["key"]), str(opts["locator"]),
                                  opts.get("domains_query"))}
    return {}


def builtin_mappings() -> list[Mapping]:
    """The built-in layouts, in file name order."""
    return [load_mapping(p) for p in _layout_files(MAPPINGS_DIR)]


def _layout_files(folder: Path) -> list[Path]:
    """A folder's layout files: *.yaml (and *.yml), not `_…` (shared data) nor dot-files."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")
                  and p.is_file() and not p.name.startswith(("_", ".")))


_OVERRIDES_WARNED: set[Path] = set()


def user_mappings() -> list[Mapping]:
    """The layouts of the user's folder ($ICP_MIGRATE_MAPPINGS), in file name order; none
    when it is unset. A missing folder, a file that is not a valid mapping or two files of
    one name are a MappingError naming the folder or the file."""
    folder = settings.user_mappings_dir()
    if folder is None:
        return []
    if not folder.is_dir():
        raise MappingError(f"{settings.MAPPINGS_ENV}={folder}: no such folder")
    found: dict[str, Mapping] = {}
    for path in _layout_files(folder):
        mapping = load_mapping(path, shown=str(path))
        if mapping.name in found:
            raise MappingError(f"mapping {path}: name {mapping.name!r} is taken by "
                               f"{found[mapping.name].path.name} in the same folder")
        found[mapping.name] = mapping
    return list(found.values())


def available_mappings() -> list[Mapping]:
    """Every layout detection tries and `--mapping NAME` finds, in this order: the user's
    folder's (file name order), then the built-in ones; a user layout named like a built-in
    one replaces it (with a warning, once per file)."""
    own = {m.name: m for m in user_mappings()}
    builtin = builtin_mappings()
    for replaced in (own[m.name] for m in builtin if m.name in own):
        if replaced.path not in _OVERRIDES_WARNED:
            _OVERRIDES_WARNED.add(replaced.path)
            log.warning("mapping %s: %s replaces the built-in layout of that name",
                        replaced.name, replaced.path)
    return [*own.values(), *(m for m in builtin if m.name not in own)]


def resolve_mapping(name_or_file: str) -> Mapping:
    """`--mapping` takes a layout's name (the user's folder first, then built-in) or a path
    to a YAML file."""
    candidate = Path(name_or_file)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return load_mapping(candidate)
    available = available_mappings()
    for mapping in available:
        if mapping.name == name_or_file:
            return mapping
    builtin = ", ".join(m.name for m in builtin_mappings())
    own = ", ".join(m.name for m in user_mappings())
    mine = f"; in {settings.MAPPINGS_ENV}: {own}" if own else ""
    raise MappingError(f"unknown mapping {name_or_file!r} (built-in: {builtin}{mine})")
