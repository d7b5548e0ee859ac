"""posthoc.repro.chapters: one record per chapter, and the build, the table of contents and
the profiles agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from posthoc.repro.chapters import BOOK_CHAPTERS, EXECUTION_ORDER, chapter
from posthoc.repro.profiles import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
NAMES = [c.name for c in BOOK_CHAPTERS]


def test_every_chapter_has_a_source_profile_parameters_and_a_place_in_the_build():
    assert sorted(EXECUTION_ORDER) == sorted(NAMES) and len(set(NAMES)) == len(NAMES)
    assert set(CHAPTERS) == set(NAMES)
    for name in NAMES:
        assert (ROOT / "notebooks" / f"{name}.py").is_file(), name
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"addsuffix \.py,([^)]*)\)", makefile).group(1).split()
    assert tuple(listed) == EXECUTION_ORDER


def test_the_table_of_contents_lists_every_chapter_in_reading_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    assert [p for p in pages if p != "book/references"] == [f"book/{n}" for n in NAMES]


def test_an_unknown_chapter_is_named_in_the_error():
    assert chapter("beyond").title == "Beyond the paper"
    with pytest.raises(ValueError, match="chapter='nope' is not a chapter"):
        chapter("nope")
