"""Every relative link in README.md and docs/**/*.md names a file or folder of the repository.

Links in code (fenced blocks, inline code) are not links; URLs with a scheme and in-page anchors are
not checked, and a link's own ``#anchor`` is ignored: only the file must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def relative_links(text: str) -> list[str]:
    """The relative link targets of a Markdown text, in order, anchors included."""
    prose = _INLINE_CODE.sub("", _FENCED.sub("", text))
    targets = [m.group(1) for m in _INLINE_LINK.finditer(prose)] + [m.group(1) for m in _REFERENCE.finditer(prose)]
    return [t for t in targets if not _SCHEME.match(t) and not t.startswith("#")]


def broken_links(doc: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in relative_links(doc.read_text(encoding="utf-8")):
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(root) or not path.exists():
            broken.append(target)
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_relative_link_resolves(doc: Path) -> None:
    assert broken_links(doc) == [], f"{doc.relative_to(ROOT)} links to files that are not in the repository"


def test_the_docs_do_link_to_each_other() -> None:
    # the check above would pass vacuously if the link pattern stopped matching
    found = relative_links((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "docs/connections.md" in found and "docs/tutorial.md#secrets" in found


def test_a_missing_file_an_escape_and_code_are_told_apart(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "here.md").write_text("x", encoding="utf-8")
    (tmp_path / "outside.md").write_text("x", encoding="utf-8")  # exists, but not in the repository
    doc = root / "doc.md"
    doc.write_text(
        "[ok](here.md#part) [gone](gone.md) [out](../outside.md) [web](https://example.test/x.md) [in](#top)\n"
        "`[not a link](nope.md)`\n\n```\n[nor this](nope.md)\n```\n\n[ref]: missing/ref.md\n",
        encoding="utf-8",
    )
    assert broken_links(doc, root=root) == ["gone.md", "../outside.md", "missing/ref.md"]
