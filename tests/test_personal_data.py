"""Personal data never leaves the target store whole: the samples run through the CLI with
debug logging, and every output (stdout, stderr, every file written under the working folder,
PREFECT_HOME, the temp folder) is searched for each certificate and phone number of the
input. Database URLs are printed with the password hidden."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import traceback
import unicodedata
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url
from stdnum.cn import ric

from test_cli import cli
from test_flow import RUN_ORDER, SAMPLES

# Each test runs the CLI with a Prefect server of its own (its database is in PREFECT_HOME,
# searched too): slow, so in the tier CI runs after `make test`.
pytestmark = pytest.mark.slow

PASSWORD = "s3cret-Pw9"
DEBUG_ENV = {"ICP_MIGRATE_DEBUG": "1", "PREFECT_LOGGING_LEVEL": "DEBUG",
             "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "DEBUG"}
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[0-9A-HJ-NPQRTUWXY]{18})"
                      r"(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def _normal(raw: str) -> str:
    """The certificate as the store normalizes it (independently: NFKC, no separators)."""
    return re.sub(r"[\s\-_.()（）]", "", unicodedata.normalize("NFKC", raw)).upper()


def _decoded(path: Path) -> str:
    """A legacy file's text, each line in the encoding it decodes in (files mix them)."""
    lines = []
    for raw in path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("gb18030", "replace"))
    return "\n".join(lines).replace("\ufeff", "")


def _raw_values(folder: Path) -> tuple[set[str], set[str]]:
    """(certificate numbers, phone numbers) as written in every sample source."""
    certs: set[str] = set()
    phones: set[str] = set()
    for name in ("hichina_beian.csv", "hichina_beian_utf8.csv"):
        rows = list(csv.DictReader(io.StringIO(_decoded(folder / name))))
        certs |= {r["证件号码"] for r in rows if r.get("证件号码")}
        phones |= {r["联系电话"] for r in rows if r.get("联系电话")}
    for line in _decoded(folder / "winport_shops.jsonl").splitlines():
        try:
            subject = json.loads(line).get("subject") or {}
        except ValueError:
            continue
        if isinstance(subject, dict):
            certs.add(str(subject.get("id_no") or ""))
            contact = subject.get("contact") or {}
            phones.add(str(contact.get("phone") or "") if isinstance(contact, dict) else "")
    with closing(sqlite3.connect(folder / "hichina_legacy.db")) as connection:
        certs |= {str(r[0]) for r in connection.execute("SELECT cert_no FROM subjects")}
    return certs, phones


@dataclass
class Secrets:
    """Every personal number of the input, in each form an output could show it."""

    certificates: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    @classmethod
    def of_samples(cls, folder: Path) -> Secrets:
        secrets = cls()
        truth = pd.read_csv(folder / "ground_truth.csv", dtype=str)
        secrets.certificates |= {k.split(":", 1)[1] for k in truth["entity_key"].dropna()}
        raw_certs, raw_phones = _raw_values(folder)
        for raw in raw_certs:
            number = _normal(raw)
            if len(number) >= 8:
                secrets.certificates |= {raw.strip(), number}
            if re.fullmatch(r"\d{15}", number):  # stored upgraded to 18 digits
                head = number[:6] + "19" + number[6:]
                secrets.certificates.add(head + ric.calc_check_digit(head + "0"))
        for text in _source_texts(folder):  # and whatever looks like an ID in the raw files
            secrets.certificates |= set(_ID_LIKE.findall(unicodedata.normalize("NFKC", text)))
            secrets.phones |= set(_PHONE.findall(unicodedata.normalize("NFKC", text)))
        for raw in raw_phones:
            digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw))
            if len(digits) >= 7:
                secrets.phones |= {raw.strip(), digits}
        secrets.certificates = {s for s in secrets.certificates if len(s) >= 8}
        return secrets

    def found_in(self, text: str) -> list[str]:
        return sorted(s for s in self.certificates | self.phones if s in text)


def _source_texts(folder: Path) -> list[str]:
    texts = [_decoded(folder / name) for name in RUN_ORDER[:3]]
    with closing(sqlite3.connect(folder / "hichina_legacy.db")) as connection:
        texts.append("\n".join(connection.iterdump()))
    return texts


def written_files(root: Path, skip: set[Path]) -> list[Path]:
    return [p for p in sorted(root.rglob("*")) if p.is_file() and p not in skip
            and not any(parent in skip for parent in p.parents)]


def leaks(secrets: Secrets, outputs: dict[str, str | bytes]) -> dict[str, list[str]]:
    found = {}
    for name, content in outputs.items():
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        hits = secrets.found_in(text)
        if hits:
            found[name] = hits[:5]
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working folder with its own PREFECT_HOME and temp folder, so all they hold is ours."""
    work = tmp_path_factory.mktemp("personal-data")
    shutil.copytree(SAMPLES, work / "samples")
    (work / "prefect-home").mkdir()
    (work / "tmp").mkdir()
    return work


def env_for(work: Path) -> dict[str, str]:
    return {**DEBUG_ENV, "PREFECT_HOME": str(work / "prefect-home"), "TMPDIR": str(work / "tmp")}


def test_no_certificate_or_phone_number_leaves_the_store_whole(workdir):
    samples = workdir / "samples"
    secrets = Secrets.of_samples(samples)
    assert len(secrets.certificates) > 80 and len(secrets.phones) > 40  # not a vacuous search
    env = env_for(workdir)
    target = ["--target", "sqlite:///out.db"]
    results = {"run": cli("run", *[str(samples / n) for n in RUN_ORDER], *target,
                          cwd=workdir, env=env)}
    assert results["run"].returncode == 0, results["run"].stderr
    results["show"] = cli("show", *target, "--limit", "500", cwd=workdir, env=env)
    results["plan export"] = cli("plan", "export", "--format", "json", *target, "--out",
                                 "exports", cwd=workdir, env=env)
    results["review export"] = cli("review", "export", *target, "--out", "exports/review.csv",
                                   cwd=workdir, env=env)
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stderr[-2000:])
    assert "DEBUG" in results["run"].stderr  # debug logging was on
    # the store holds the numbers whole: the search does find them where they are
    assert secrets.found_in((workdir / "out.db").read_bytes().decode("utf-8", "replace"))

    outputs: dict[str, str | bytes] = {}
    for name, result in results.items():
        outputs[f"{name} stdout"] = result.stdout
        outputs[f"{name} stderr"] = result.stderr
    files = written_files(workdir, skip={samples, workdir / "out.db"})
    assert any(p.is_relative_to(workdir / "prefect-home") for p in files)
    assert any(p.suffix == ".html" for p in files)  # the run's report was written and searched
    assert {"account_plan.json", "review.csv"} <= {p.name for p in files}
    for path in files:
        outputs[str(path.relative_to(workdir))] = path.read_bytes()
    assert not leaks(secrets, outputs)


ID_NUMBER = "330106198001011234"


def legacy_db_with_a_bad_certificate(folder: Path) -> tuple[Path, int]:
    """The sample legacy database, one subject's cert_no the ID number plus a byte that is
    not UTF-8, stored as TEXT (a BLOB always came back as bytes; TEXT failed the query with
    the value quoted); and how many sites (records) that subject has."""
    path = folder / "legacy.db"
    shutil.copy(SAMPLES / "hichina_legacy.db", path)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE subjects SET cert_no = CAST(? AS TEXT) "
                           "WHERE subject_id = 2000002", (ID_NUMBER.encode() + b"\xff",))
        (sites,), = connection.execute("SELECT COUNT(*) FROM sites WHERE subject_id = 2000002")
    return path, sites


def test_a_bad_byte_in_a_legacy_database_quarantines_its_records_and_prints_nothing(tmp_path):
    (tmp_path / "prefect-home").mkdir()
    (tmp_path / "tmp").mkdir()
    source, sites = legacy_db_with_a_bad_certificate(tmp_path)
    target = "sqlite:///out.db"
    run = cli("run", str(source), "--target", target, cwd=tmp_path, env=env_for(tmp_path))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "DEBUG" in run.stderr  # debug logging was on
    engine = create_engine(f"sqlite:///{tmp_path / 'out.db'}")
    try:
        dispositions = pd.read_sql("SELECT disposition, reasons FROM record_dispositions",
                                   engine)
    finally:
        engine.dispose()
    quarantined = dispositions[dispositions["reasons"].str.contains(
        "undecodable bytes in column 'cert_no'", na=False)]
    assert len(quarantined) == sites >= 1
    assert set(quarantined["disposition"]) == {"quarantined"}
    assert len(dispositions) > sites  # every other record was read

    outputs: dict[str, str | bytes] = {"stdout": run.stdout, "stderr": run.stderr}
    files = written_files(tmp_path, skip={source})
    assert any(p.name == "prefect.db" for p in files)
    for path in files:
        outputs[str(path.relative_to(tmp_path))] = path.read_bytes()
    assert [name for name, content in outputs.items()
            if ID_NUMBER.encode() in (content if isinstance(content, bytes) else
                                      content.encode())] == []


@pytest.mark.usefixtures("prefect_harness")
def test_an_exception_quoting_a_value_leaves_tasks_and_flow_masked(tmp_path, monkeypatch):
    """The old reader's failure (sqlite3 quotes the value it cannot decode): Prefect stores
    and logs what a task and the flow raise, so it must be masked before they raise it."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    from icp_migrate.errors import SourceError
    from icp_migrate.readers import sql_reader
    from test_flow import migrate

    # the reader as it was: its driver decodes (and quotes the value it cannot decode)
    monkeypatch.setattr(sql_reader, "_text_as_bytes", lambda connection: nullcontext(),
                        raising=False)
    source, _ = legacy_db_with_a_bad_certificate(tmp_path)
    state = migrate(sources=[str(source)], target=f"sqlite:///{tmp_path / 'out.db'}",
                    return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, SourceError)  # the class kept: the CLI prints it as one line
    assert "Could not decode" in str(error) and "3301" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    shown = "".join(traceback.format_exception(error))

    APILogHandler().flush()  # the logs sent before they are read
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    assert any(t.state and t.state.is_failed() for t in task_runs)
    assert any("Could not decode" in log.message for log in logs)  # the failure was logged
    texts = {"raised": str(error), "traceback": shown, "flow state": state.message or "",
             **{f"task {t.name}": t.state.message or "" for t in task_runs if t.state},
             **{f"log {i}": log.message for i, log in enumerate(logs)}}
    database = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    for path in database.parent.glob(database.name + "*"):  # with its -wal file
        texts[path.name] = path.read_bytes().decode("utf-8", "replace")
    assert [name for name, text in texts.items() if ID_NUMBER in text] == []


def test_debug_tracebacks_are_masked(monkeypatch, capsys):
    import typer

    from icp_migrate.cli import DEBUG_ENV, _guarded

    def fail() -> None:
        try:
            raise ValueError(f"bad value {ID_NUMBER}")
        except ValueError as exc:
            raise KeyError(f"{ID_NUMBER}\x1b[2J") from exc

    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(typer.Exit) as caught:
        _guarded(fail)
    assert caught.value.exit_code == 1
    printed = capsys.readouterr()
    assert "Traceback" in printed.err and "KeyError" in printed.err and "ValueError" in printed.err
    assert "3301" in printed.err and ID_NUMBER not in printed.err + printed.out
    assert "\x1b" not in printed.err  # nor a control character from a value


@pytest.mark.postgres
def test_database_passwords_are_never_printed(workdir, pg_url, tmp_path):
    url = make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    engine = create_engine(url)  # the legacy database as a PostgreSQL source, same schema
    try:
        with closing(sqlite3.connect(SAMPLES / "hichina_legacy.db")) as legacy, \
                engine.begin() as conn:
            for table in ("members", "subjects", "sites", "site_domains"):
                pd.read_sql(f"SELECT * FROM {table}", legacy).to_sql(table, conn, index=False)
    finally:
        engine.dispose()
    env = env_for(workdir)
    source = str(workdir / "samples" / "hichina_beian_utf8.csv")
    # the target holds the legacy tables: --init lets our tables go beside them
    run = cli("run", source, url, "--target", url, "--init", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "postgres:***@" in run.stderr  # the progress line names the source, hidden
    assert "***" in run.stdout  # the summary names the target, password hidden
    shown = cli("show", "--target", url, cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    wrong = make_url(url).set(database="no_such_database").render_as_string(hide_password=False)
    failed = cli("run", source, "--target", wrong, cwd=tmp_path, env=env)
    assert failed.returncode == 1 and "no_such_database" in failed.stderr
    legacy = cli("run", wrong, cwd=tmp_path, env=env)  # a database source, unreachable
    assert legacy.returncode == 1
    outputs: dict[str, str | bytes] = {}
    for name, result in {"run": run, "show": shown, "failed": failed, "legacy": legacy}.items():
        outputs[f"{name} stdout"] = result.stdout
        outputs[f"{name} stderr"] = result.stderr
    for path in written_files(tmp_path, skip=set()) + written_files(workdir / "prefect-home",
                                                                  skip=set()):
        outputs[str(path)] = path.read_bytes()
    leaked = [name for name, content in outputs.items()
              if PASSWORD in (content if isinstance(content, str) else
                              content.decode("utf-8", "replace"))]
    assert not leaked
