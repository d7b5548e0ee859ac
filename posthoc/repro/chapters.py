"""The book's chapters, one record each: its source, its title, what of the paper it covers,
and where it runs in the build (``make book`` executes them in :data:`EXECUTION_ORDER`; the
table of contents lists them in :data:`BOOK_CHAPTERS`' order)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``name`` is its source ``notebooks/<name>.py`` and page ``book/<name>``."""

    name: str
    title: str
    covers: str


#: Every chapter, in reading order (the table of contents' order).
BOOK_CHAPTERS = (
    Chapter("intro", "Post-hoc methods for debiasing neural networks",
            "what holds of the paper, from the committed paper-scale results"),
    Chapter("need_for_networks", "The need for neural networks",
            "Section 6 and Appendix A, Table 3"),
    Chapter("sensitivity", "Sensitivity of bias to the seed",
            "Section 6 and Appendix A, Table 1 and Figure 2"),
    Chapter("main_comparison", "The main comparison", "Section 6, Figure 1 plots 1-6 and Table 2"),
    Chapter("ablations", "Ablations: other networks", "Section 6, Figure 1 plots 7-8"),
    Chapter("reproducibility", "Reproducibility",
            "every number and claim of the paper against ours"),
    Chapter("own_model", "Debias your own model",
            "beyond the paper: your model, your CSV files, save and load, the command line"),
    Chapter("beyond", "Beyond the paper",
            "the final version's objective, today's baselines, one frontier, more than two groups"),
    Chapter("teaching", "Teaching with this book", "learning goals, times and exercises"),
)

#: The order in which ``make book`` executes the chapters: the ablation reuses the main
#: comparison's results, every chapter that adds study cells runs before the
#: reproducibility chapter, and the first page, which reads only the committed results,
#: runs first.
EXECUTION_ORDER = ("intro", "need_for_networks", "sensitivity", "main_comparison", "ablations",
                   "beyond", "reproducibility", "own_model", "teaching")


def chapter(name: str) -> Chapter:
    """The record of the chapter ``name``."""
    for entry in BOOK_CHAPTERS:
        if entry.name == name:
            return entry
    raise ValueError(f"chapter={name!r} is not a chapter of the book; expected one of "
                     + ", ".join(c.name for c in BOOK_CHAPTERS) + ".")


__all__ = ["BOOK_CHAPTERS", "EXECUTION_ORDER", "Chapter", "chapter"]
