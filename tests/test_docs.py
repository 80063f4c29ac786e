"""docs/rules.md names, for every rule, its one home module and its focused test: both exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def _homes() -> dict[str, tuple[str, str]]:
    table = RULES.split("## Where each rule lives", 1)[1]
    rows = re.findall(r"^\| ([A-Z]+-?\d+) \| `([^`]+)` \| `([^`]+)` \|", table, re.M)
    return {rule: (home, test) for rule, home, test in rows}


def _rule_ids() -> set[str]:
    body = RULES.split("## Where each rule lives", 1)[0]
    return set(re.findall(r"^\| ((?:R|ID|X|AR|D|N)-?\d+) \|", body, re.M))


def test_every_rule_has_one_home_and_one_focused_test():
    homes = _homes()
    assert _rule_ids() and _rule_ids() == set(homes)
    for rule, (home, test) in homes.items():
        module = ROOT / "src" / "icp_migrate" / home
        assert module.is_file() or (ROOT / home).is_file(), f"{rule}: no module {home}"
        file, _, name = test.partition("::")
        source = ROOT / "tests" / file
        assert source.is_file(), f"{rule}: no test file {file}"
        if name:
            tree = ast.parse(source.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in names, f"{rule}: no test {test}"


def test_the_repository_stands_alone():
    """Nothing points outside the repository for its rules or layouts."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in texts:
        assert "../shared" not in path.read_text(encoding="utf-8"), path.name
