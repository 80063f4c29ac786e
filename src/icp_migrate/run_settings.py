"""A run's options, checked once where they enter; its settings as part of its record (runs
row), and the checks before re-running it.

A run is repeatable only as it was: the same cut-off, the same mapping (its content, not
just its name) and the same sources (their bytes, not just their names). Sources are kept
as absolute paths, so a re-run from another folder reads the same files; URLs keep no
password, so a run from a URL that had one cannot be repeated without the user.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from . import settings
from .errors import IcpMigrateError, SourceError, UsageError
from .mapping import MAPPINGS_DIR, Mapping, resolve_mapping
from .pipeline.distributed import check_spec
from .store.target import database_file, display_url


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (constant memory, any size)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _is_url(source: str) -> bool:
    return "://" in source


def recorded_source(source: str) -> str:
    """A file path made absolute; a URL without its password (a relative SQLite file made
    absolute too, so it names the same database from any folder)."""
    if not _is_url(source):
        return os.path.abspath(source)
    try:
        url = make_url(source)
    except ArgumentError:
        return display_url(source)
    database = database_file(url)
    if database and url.database == database and not os.path.isabs(database):
        url = url.set(database=os.path.abspath(database))
    return display_url(url)


def _database_file(source: str) -> Path | None:
    """The database file a recorded URL names (absolute), if it names one."""
    database = database_file(source)
    return Path(database) if database and os.path.isabs(database) else None


@dataclass(frozen=True)
class RunSettings:
    """What a run was given: recorded in its runs row, read back to re-run it."""

    sources: list[str]  # absolute file paths, URLs without passwords
    source_hashes: dict[str, str | None]  # source -> sha256 of a file's bytes; None: a URL
    cutoff: date
    mapping_name: str | None = None  # None: each source's layout was detected
    mapping_path: str | None = None  # absolute path of a mapping file; None: built-in
    mapping_hash: str | None = None  # sha256 of the mapping's YAML (built-in ones too)
    reports_dir: str | None = None  # absolute

    @property
    def mapping(self) -> str | None:
        """What `--mapping` takes to use the same mapping again: the file, or the name."""
        return self.mapping_path or self.mapping_name

    def columns(self) -> dict[str, Any]:
        """The runs columns besides `sources`."""
        return {"cutoff": self.cutoff, "mapping_name": self.mapping_name,
                "mapping_path": self.mapping_path, "mapping_hash": self.mapping_hash,
                "source_hashes": json.dumps(self.source_hashes, ensure_ascii=False),
                "reports_dir": self.reports_dir}

    @classmethod
    def from_row(cls, row: Any) -> RunSettings:
        """The settings a runs row recorded; IcpMigrateError for a run from before they
        were recorded (its paths were kept as typed, its cut-off not at all)."""
        if row.cutoff is None or row.source_hashes is None:
            raise IcpMigrateError(
                f"cannot re-run run {row.run_id}: its settings were not recorded (an older "
                "version ran it); run icp-migrate run with its sources instead")
        cutoff = row.cutoff if isinstance(row.cutoff, date) else date.fromisoformat(
            str(row.cutoff))
        return cls(sources=json.loads(row.sources or "[]"),
                   source_hashes=json.loads(row.source_hashes), cutoff=cutoff,
                   mapping_name=row.mapping_name, mapping_path=row.mapping_path,
                   mapping_hash=row.mapping_hash, reports_dir=row.reports_dir)

    def check_unchanged(self, run_id: str) -> None:
        """IcpMigrateError, one line, when a source file or the mapping file is gone or
        its content is not what the run read; database URLs are not checked beyond a
        SQLite file still being there. Reads every file once (sha256 streams)."""
        for source in self.sources:
            if _is_url(source):
                database = _database_file(source)
                if database is not None and not database.is_file():
                    raise IcpMigrateError(
                        f"cannot re-run run {run_id}: {database} no longer exists")
                continue
            self._check_file(run_id, Path(source), self.source_hashes.get(source))
        if self.mapping_path is not None:
            self._check_file(run_id, Path(self.mapping_path), self.mapping_hash)

    @staticmethod
    def _check_file(run_id: str, path: Path, expected: str | None) -> None:
        if not path.is_file():
            raise IcpMigrateError(f"cannot re-run run {run_id}: {path} no longer exists")
        try:
            same = expected is not None and file_sha256(path) == expected
        except OSError as exc:
            raise IcpMigrateError(
                f"cannot re-run run {run_id}: {path} cannot be read ({exc.strerror})") from None
        if not same:
            raise IcpMigrateError(f"cannot re-run run {run_id}: {path} changed since run "
                                  f"{run_id}")


def record_settings(sources: list[str], mapping: str | None, cutoff: date,
                    reports_dir: str | Path) -> RunSettings:
    """A run's settings as its runs row keeps them. Each source file is read once more for
    its sha256 (streaming: roughly a second per GB, small next to extracting it)."""
    recorded = [recorded_source(s) for s in sources]
    hashes: dict[str, str | None] = {}
    for source, shown in zip(sources, recorded, strict=True):
        try:
            hashes[shown] = None if _is_url(source) else file_sha256(Path(source))
        except OSError as exc:
            raise SourceError(f"{source}: cannot read ({exc.strerror})") from None
    name = path = digest = None
    if mapping:
        chosen = resolve_mapping(mapping)
        name, path = _mapping_reference(chosen)
        digest = file_sha256(chosen.path)
    return RunSettings(sources=recorded, source_hashes=hashes, cutoff=cutoff,
                       mapping_name=name, mapping_path=path, mapping_hash=digest,
                       reports_dir=os.path.abspath(reports_dir))


def _mapping_reference(chosen: Mapping) -> tuple[str, str | None]:
    """A resolved mapping's name, and its file's absolute path unless it is a built-in one."""
    builtin = chosen.path.resolve().parent == MAPPINGS_DIR.resolve()
    return chosen.name, None if builtin else os.path.abspath(chosen.path)


def parse_cutoff(cutoff: str | date) -> date:
    """The cut-off as a date; UsageError (exit 2) unless it is one (YYYY-MM-DD)."""
    if isinstance(cutoff, date):
        return cutoff
    try:
        return date.fromisoformat(cutoff)
    except (TypeError, ValueError):
        raise UsageError(f"--cutoff must be a date YYYY-MM-DD, not {cutoff!r}") from None


def _revealed(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do, typed: built and checked once where it enters
    (`from_user`: `icp-migrate run`, `serve`, each inbox tick). The migrate flow takes it
    as plain parameters (`flow_parameters`, serialisable, URLs masked: Prefect stores them)
    and reads them back (`from_flow`); the run records it (`recorded`)."""

    target: str  # a SQLAlchemy URL (a plain path or the default already made one)
    sources: tuple[str, ...] = ()  # files or database URLs, in run order
    cutoff: date = date.fromisoformat(settings.DEFAULT_CUTOFF)
    mapping: str | None = None  # a built-in mapping's name, or a mapping file's absolute path
    reports_dir: str = "reports"
    dry_run: bool = False
    dask: str | None = None  # a scheduler address or local:N; None: sources in this process
    # create our tables in a target that holds other tables (`--init`); the CLI opens the
    # target with it before the flow starts, so the flow's own opening finds them made
    init: bool = False

    @classmethod
    def from_user(cls, sources: Iterable[str] = (), *, target: str | None,
                  cutoff: str | date = settings.DEFAULT_CUTOFF, mapping: str | None = None,
                  reports_dir: str = "reports", dry_run: bool = False,
                  dask: str | None = None, init: bool = False) -> RunOptions:
        """The options as given (`target` None or empty: $ICP_MIGRATE_TARGET or the default
        file), checked: UsageError for a bad cut-off or Dask spec, MappingError for a
        mapping that is not a built-in name or a valid mapping file."""
        day = parse_cutoff(cutoff)
        if dask:
            check_spec(dask)
        reference = None
        if mapping:
            name, path = _mapping_reference(resolve_mapping(mapping))
            reference = path or name
        return cls(target=settings.target_url(target or None), sources=tuple(sources),
                   cutoff=day, mapping=reference, reports_dir=reports_dir, dry_run=dry_run,
                   dask=dask or None, init=init)

    @classmethod
    def from_flow(cls, sources: Iterable[str | SecretStr], target: str | SecretStr,
                  mapping: str | None, cutoff: str | date, dry_run: bool,
                  reports_dir: str, init: bool = False) -> RunOptions:
        """The options the migrate flow's parameters carry (URLs may come as SecretStr)."""
        return cls(target=_revealed(target), sources=tuple(_revealed(s) for s in sources),
                   cutoff=parse_cutoff(cutoff), mapping=mapping or None,
                   reports_dir=reports_dir, dry_run=dry_run, init=init)

    def flow_parameters(self) -> dict[str, Any]:
        """The migrate flow's parameters: URLs (they may hold passwords) as SecretStr."""
        return {"sources": [SecretStr(s) if _is_url(s) else s for s in self.sources],
                "target": SecretStr(self.target), "mapping": self.mapping,
                "cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run,
                "reports_dir": self.reports_dir, "distributed": bool(self.dask),
                "init": self.init}

    def __repr__(self) -> str:  # URLs without their passwords, as everywhere in logs
        shown = [display_url(s) if _is_url(s) else s for s in self.sources]
        return (f"RunOptions(target={display_url(self.target)!r}, sources={shown!r}, "
                f"cutoff={self.cutoff.isoformat()}, mapping={self.mapping!r}, "
                f"reports_dir={self.reports_dir!r}, dry_run={self.dry_run}, dask={self.dask!r}, "
                f"init={self.init})")

    def with_sources(self, sources: Iterable[str]) -> RunOptions:
        return replace(self, sources=tuple(sources))

    def forced_mapping(self) -> Mapping | None:
        """The mapping forced on every source; None: each source's layout is detected."""
        return resolve_mapping(self.mapping) if self.mapping else None

    def shown_sources(self) -> list[str]:
        """The sources as a run's record names them (absolute paths, URLs without passwords),
        without reading them."""
        return [recorded_source(s) for s in self.sources]

    def recorded(self) -> RunSettings:
        """The settings the run's record keeps (see `record_settings`)."""
        return record_settings(list(self.sources), self.mapping, self.cutoff,
                               self.reports_dir)
