"""privy: simulate conversations between LLM agents that hold private information.

The repository's top-level folders are this package's subpackages, each a layer that
imports only the ones before it: :mod:`privy.simulator` (scenarios, environment,
modes, backends, episode log) <- :mod:`privy.scenarios` (families, reference
policies, importers) <- :mod:`privy.evaluators` (Episode -> Score) <-
:mod:`privy.bench` (suites, executors, store, report, viewer) <- :mod:`privy.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("privy-sim")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
