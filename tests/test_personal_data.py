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
import unicodedata
from contextlib import closing
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
    run = cli("run", source, url, "--target", url, cwd=tmp_path, env=env)
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
