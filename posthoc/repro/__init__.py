"""The reproduction of Savani, White and Govindarajulu (2020), built on the posthoc library.

* :mod:`~posthoc.repro.profiles` - the quick and paper profiles, every chapter's parameters;
* :mod:`~posthoc.repro.chapters` - the book's chapters, one record each;
* :mod:`~posthoc.repro.study` - the study grid, the results store and its command line;
* :mod:`~posthoc.repro.fingerprint` - which code computed a cell (its key includes it);
* :mod:`~posthoc.repro.identity` - the store's identity check, ``python -m posthoc.repro.identity``;
* :mod:`~posthoc.repro.models` - Table 3 (logistic regression and random forest beside the network);
* :mod:`~posthoc.repro.sensitivity` - Table 1 and Appendix A's perturbation analysis;
* :mod:`~posthoc.repro.comparison` - the comparison chapters' tables, intervals and tests;
* :mod:`~posthoc.repro.reported` - every reported number beside ours, and Table 1's spreads;
* :mod:`~posthoc.repro.claims` - every claim of the paper, one function and criterion each;
* :mod:`~posthoc.repro.frontpage` - the first page: what holds, from the committed results;
* :mod:`~posthoc.repro.figures` - Figures 1 and 2;
* :mod:`~posthoc.repro.paper` - the numbers the paper reports;
* :mod:`~posthoc.repro.bench` - speed benchmarks, ``python -m posthoc.repro.bench``.

The library (:mod:`posthoc`) never imports this package.
"""
