"""No template or Python module emits inline style, inline script or event-handler attributes.

The Content-Security-Policy allows scripts and styles from the portal's own files only
(``script-src 'self'``, ``style-src 'self'``), so any of these would be refused by the browser.
The browser test (tests/browser/test_no_third_party_requests.py) proves it on real pages; this
scan covers every template and every HTML string in the code, cheaply.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "staticfiles", "node_modules", ".git", "tests", "bench", "var"}

# An attribute inside an HTML tag: style="…" or an on…= event handler.
INLINE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^<>]*?\s(style|on[a-z]+)\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc\s*=)[^>]*>", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
# In Python: the same patterns inside one string literal.
PY_STRING = re.compile(r"""(?:'[^'\n]*'|"[^"\n]*")""")


def _files(pattern: str) -> list[Path]:
    return sorted(path for path in ROOT.rglob(pattern)
                  if not SKIP_DIRS & set(path.relative_to(ROOT).parts[:-1]))


def _problems(text: str) -> list[str]:
    found = []
    for regex in (INLINE_ATTRIBUTE, STYLE_ELEMENT, INLINE_SCRIPT, JAVASCRIPT_URL):
        found += [match.group(0) for match in regex.finditer(text)]
    return found


def test_the_scan_finds_what_it_looks_for():
    assert _problems('<div style="color:red">') and _problems("<li class='x' onclick='go()'>")
    assert _problems("<style>p{}</style>") and _problems("<script>alert(1)</script>")
    assert _problems('<a href="javascript:void(0)">')
    assert not _problems('<script src="/static/x.js"></script><p class="on">')
    assert not _problems("<div data-onload='1' class=\"one\">")


def test_templates_are_found():
    templates = _files("*.html")
    assert any(p.relative_to(ROOT).parts[0] == "templates" for p in templates)
    assert any("templates" in p.relative_to(ROOT).parts[1:] for p in templates)


@pytest.mark.parametrize("path", _files("*.html"), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_style_script_or_handler(path):
    assert _problems(path.read_text(encoding="utf-8")) == []


def test_python_modules_emit_no_inline_style_script_or_handler():
    offenders = []
    for path in _files("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for literal in PY_STRING.findall(line):
                if problems := _problems(literal):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {problems}")
    assert offenders == []
