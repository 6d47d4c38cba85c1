"""Running grids and presenting results: suites, executors, the result store, report, viewer.

The Python API behind ``privy bench``, ``report``, ``view``, ``export`` and ``compare``:

```python
from pathlib import Path

from privy.bench import Grid, ResultStore, build_report, load_suite, run_bench, to_markdown

suite, base = load_suite("my.suite.yaml")  # scenarios x modes x backends x seeds
with ResultStore("results.db") as store:  # created, or resumed: only what is missing runs
    run_bench(suite, Grid(suite, base), store, jobs=4)
report = build_report("results.db")
Path("report.md").write_text(to_markdown(report), encoding="utf-8")
```

:func:`to_html` and :func:`print_report` render the same :class:`Report`; :func:`export`
writes the store's tables for pandas; ``render(from_store("results.db"))`` is the
transcript viewer's page; :func:`compare` runs scenario files in several modes without a
suite or a store.

Modules: :mod:`~privy.bench.suite` (suite files, grids, cells), :mod:`~privy.bench.store`
(the SQLite result store, the only module that speaks SQL, and the cell keys),
:mod:`~privy.bench.execute` (running one cell, shared by the executors),
:mod:`~privy.bench.run` (the local executor), :mod:`~privy.bench.ray_executor`,
:mod:`~privy.bench.compare`, :mod:`~privy.bench.stats`, :mod:`~privy.bench.report`,
:mod:`~privy.bench.export`, :mod:`~privy.bench.view` and :mod:`~privy.bench.view_html`;
:mod:`~privy.bench.play` (a person at one seat, ``privy play``) with :mod:`~privy.bench.seat_moves`,
:mod:`~privy.bench.seat_terminal` and :mod:`~privy.bench.seat_web`.
"""

from privy.bench.compare import compare
from privy.bench.execute import Progress
from privy.bench.export import ExportError, export
from privy.bench.report import Report, build_report, print_report, to_html, to_markdown
from privy.bench.run import run_bench
from privy.bench.store import ResultStore, StoreError, StoreReader, open_reader
from privy.bench.suite import Cell, Grid, Suite, SuiteError, load_suite
from privy.bench.view import ViewData, ViewError, from_episodes, from_store
from privy.bench.view_html import render

__all__ = [
    "Cell",
    "ExportError",
    "Grid",
    "Progress",
    "Report",
    "ResultStore",
    "StoreError",
    "StoreReader",
    "Suite",
    "SuiteError",
    "ViewData",
    "ViewError",
    "build_report",
    "compare",
    "export",
    "from_episodes",
    "from_store",
    "load_suite",
    "open_reader",
    "print_report",
    "render",
    "run_bench",
    "to_html",
    "to_markdown",
]
