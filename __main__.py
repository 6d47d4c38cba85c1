"""``python -m privy``: the same command line as ``privy``."""

from privy.cli import app

app(prog_name="privy")
