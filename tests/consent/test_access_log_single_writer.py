"""Exactly one module writes data-access log rows: ``consent/access.py``.

The test parses every Python file of the project and fails on any other code that creates
``AccessLog`` rows: instantiating the model, a manager's create/bulk_create/get_or_create/
update_or_create, ``apps.get_model("consent", "AccessLog")``, or SQL naming its table.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path("consent/access.py")
TABLE = "consent_accesslog"
CREATORS = {"create", "bulk_create", "get_or_create", "update_or_create", "save", "_insert"}
SKIP_DIRS = {".venv", "node_modules", ".git", "staticfiles"}
# Tests of the database itself (the portal role's grants, seals over rows written outside Django)
# and the audit benchmark's set-up insert raw rows on purpose; they are not application writers.
RAW_SQL_TESTS = {
    Path("bench/audit_bench.py"),
    Path("tests/audit/test_db_role.py"),
    Path("tests/audit/test_seal_concurrency.py"),
    Path("tests/audit/test_seals.py"),
}


def _names_for_accesslog(tree: ast.AST) -> set[str]:
    names = {"AccessLog"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "AccessLog" and alias.asname:
                    names.add(alias.asname)
    return names


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def writes_in(source: str) -> list[int]:
    """Return the line numbers in ``source`` that create access-log rows."""
    tree = ast.parse(source)
    names = _names_for_accesslog(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in names:
                lines.append(node.lineno)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in CREATORS
                and _mentions(func.value, names)
            ):
                lines.append(node.lineno)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "get_model"
                and any(isinstance(a, ast.Constant) and a.value == "AccessLog" for a in node.args)
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if TABLE in node.value.lower() and any(
                verb in node.value.upper() for verb in ("INSERT", "COPY")
            ):
                lines.append(node.lineno)
    return lines


def project_files():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS & set(rel.parts) or "migrations" in rel.parts:
            continue
        yield rel


def test_only_consent_access_creates_access_log_rows():
    offenders = {}
    for rel in project_files():
        if rel in (WRITER, Path(__file__).resolve().relative_to(ROOT)) or rel in RAW_SQL_TESTS:
            continue
        lines = writes_in((ROOT / rel).read_text(encoding="utf-8"))
        if lines:
            offenders[str(rel)] = lines
    assert offenders == {}, "AccessLog rows must be created only through consent.access"


def test_the_scan_sees_the_writer_itself():
    assert writes_in((ROOT / WRITER).read_text(encoding="utf-8"))


def test_the_scan_catches_other_ways_of_writing():
    samples = [
        "from consent.models import AccessLog\nAccessLog.objects.create(action='view')",
        "from consent.models import AccessLog as Log\nLog(action='view').save()",
        "from consent.models import AccessLog\nAccessLog._default_manager.bulk_create([])",
        "apps.get_model('consent', 'AccessLog')",
        "cursor.execute('INSERT INTO consent_accesslog (action) VALUES (%s)', ['x'])",
    ]
    for sample in samples:
        assert writes_in(sample), sample
    assert not writes_in("from consent.models import AccessLog\nAccessLog.objects.filter(id=1)")
