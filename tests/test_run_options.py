"""A run's options: typed and checked once where they enter; the environment read only by
settings.py; an inbox tick opens its target once."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from icp_migrate import settings
from icp_migrate.errors import MappingError, UsageError
from icp_migrate.run_settings import RunOptions
from test_flow import SAMPLES

SRC = Path(__file__).resolve().parents[1] / "src" / "icp_migrate"


def test_options_from_the_user_are_typed_and_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(settings.TARGET_ENV, raising=False)
    options = RunOptions.from_user(["a.csv"], target=None, cutoff="2020-06-30")
    assert options.cutoff == date(2020, 6, 30)
    assert options.target == f"sqlite:///{settings.DEFAULT_TARGET_FILE}"
    assert options.sources == ("a.csv",) and options.mapping is None
    monkeypatch.setenv(settings.TARGET_ENV, "elsewhere.db")
    assert RunOptions.from_user(target="").target == "sqlite:///elsewhere.db"
    assert RunOptions.from_user(target="out.db").target == "sqlite:///out.db"

    # a mapping file by its absolute path, a built-in one by its name
    (tmp_path / "m.yaml").write_text(
        (SRC.parents[1] / "mappings" / "winport_shops_jsonl.yaml").read_text(encoding="utf-8"),
        encoding="utf-8")
    assert RunOptions.from_user(target=None, mapping="m.yaml").mapping == str(
        tmp_path / "m.yaml")
    assert RunOptions.from_user(target=None, mapping="hichina_beian_csv").mapping == \
        "hichina_beian_csv"

    for bad, error in ([{"cutoff": "2020-13-01"}, UsageError], [{"cutoff": "June"}, UsageError],
                       [{"dask": "local:0"}, UsageError],
                       [{"mapping": "no-such-layout"}, MappingError]):
        with pytest.raises(error) as raised:
            RunOptions.from_user(target=None, **bad)
        assert raised.value.exit_code == 2
    with pytest.raises(UsageError, match="--cutoff must be a date YYYY-MM-DD"):
        RunOptions.from_user(target=None, cutoff="June")

    with pytest.raises(AttributeError):  # frozen
        options.cutoff = date(2000, 1, 1)  # type: ignore[misc]


def test_flow_parameters_are_serialisable_masked_and_read_back():
    options = RunOptions.from_user(["a.csv", "postgresql://u:secret@db/legacy"],
                                   target="postgresql://t:secret@db/target",
                                   cutoff="2017-01-01", reports_dir="r", dask="local:2")
    parameters = options.flow_parameters()
    assert parameters["sources"][0] == "a.csv"
    assert isinstance(parameters["sources"][1], SecretStr)
    assert isinstance(parameters["target"], SecretStr)
    assert parameters["cutoff"] == "2017-01-01" and parameters["distributed"] is True
    assert "secret" not in repr(parameters) and "secret" not in repr(options)
    back = RunOptions.from_flow(parameters["sources"], parameters["target"],
                                parameters["mapping"], parameters["cutoff"],
                                parameters["dry_run"], parameters["reports_dir"],
                                parameters["init"])
    assert back == RunOptions(**{**vars(options), "dask": None})


def test_only_settings_reads_the_environment(monkeypatch):
    readers = [path.relative_to(SRC).as_posix() for path in SRC.rglob("*.py")
               if any(word in path.read_text(encoding="utf-8")
                      for word in ("os.environ", "getenv"))]
    assert readers == ["settings.py"]

    monkeypatch.setenv(settings.LOCK_WAIT_ENV, "2.5")
    assert settings.lock_wait_seconds() == 2.5
    monkeypatch.delenv(settings.LOCK_WAIT_ENV)
    assert settings.lock_wait_seconds() == settings.DEFAULT_LOCK_WAIT_SECONDS
    monkeypatch.setenv(settings.DEBUG_ENV, "1")
    assert settings.debug_enabled()
    monkeypatch.setenv(settings.DEBUG_ENV, "")
    assert not settings.debug_enabled()
    monkeypatch.setenv(settings.PREFECT_API_ENV, "http://127.0.0.1:9/api")
    assert settings.prefect_api_url() == "http://127.0.0.1:9/api"
    assert settings.PREFECT_API_ENV not in settings.prefect_server_environment()


@pytest.mark.usefixtures("prefect_harness")
def test_an_inbox_tick_opens_its_target_once(tmp_path, monkeypatch):
    """Before: once for the scan, once for the run, once for the ledger (each an Alembic
    upgrade check)."""
    from icp_migrate.flows.inbox import migrate_inbox
    from icp_migrate.store import target

    opened: list[str] = []
    real = target.open_target

    def counting(url, **options):
        opened.append(url)
        return real(url, **options)

    monkeypatch.setattr(target, "open_target", counting)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    url = f"sqlite:///{tmp_path / 'target.db'}"
    shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "a.csv")
    (inbox / "broken.csv").write_bytes(b"not,a,known\nlayout,at,all\n")
    counts = migrate_inbox(str(inbox), url, reports_dir=str(tmp_path / "reports"), settle=0)
    assert counts == {"new": 1, "failed": 1, "skipped": 0, "waiting": 0}
    assert opened == [url]
    opened.clear()
    shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "copy.csv")
    assert migrate_inbox(str(inbox), url, settle=0)["skipped"] == 1
    assert opened == [url]
