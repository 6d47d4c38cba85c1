"""Running grids and presenting results: suites, executors, the result store, report, viewer."""
