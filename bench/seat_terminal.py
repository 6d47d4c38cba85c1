"""The terminal seat: a person plays one agent in a terminal, through rich.

It prints the agent's briefing (who it is, the situation, its private goal and facts,
whom it can write to, how to commit), then at each of its turns the messages delivered
to it since its last turn, and reads a line (:mod:`privy.bench.seat_moves`). Only the
Observation the runner hands the ``human`` backend is shown; every text from the
scenario or a model goes through :func:`~privy.simulator.terminal.visible` and is
printed as plain text (rich markup in it is not obeyed).

While it reads, Ctrl-C raises :class:`~privy.simulator.backends.human.SeatInterrupted`
(whatever SIGINT handler the program had, e.g. asyncio's, is put back after the read).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

from privy.bench.seat_moves import HELP, BadInput, Leave, Say, Show, commit_rule, read_move
from privy.simulator.backends.human import HumanBackend, SeatInterrupted, SeatLeft
from privy.simulator.bus import Message
from privy.simulator.terminal import visible
from privy.simulator.views import Observation


def _plain(text: str, style: str = "") -> Text:
    return Text(visible(text), style=style)


class TerminalSeat:
    """Reads one agent's turns from a person at this terminal."""

    kind = "terminal"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(emoji=False, highlight=False)
        self._shown: set[int] = set()  # ids of the messages printed already
        self._briefed = False
        with contextlib.suppress(ImportError):  # line editing and an Up-arrow history, where the platform has it
            import readline  # noqa: F401

    async def turn(self, view: Observation, max_tokens: int) -> str:
        if not self._briefed:
            self._brief(view)
            self.console.print(_plain(HELP, "dim"))
            self._briefed = True
        self.show_new(view)
        can = ", ".join(view.names[a] for a in sorted(view.neighbours)) or "no one"
        prompt = Text.assemble(_plain(view.agent.name, "bold"), (" → ", "dim"), _plain(can, "dim"), " > ")
        while True:
            line = self._read(prompt)
            try:
                move = read_move(line, view)
            except BadInput as e:
                self.console.print(Text.assemble(("not sent: ", "red"), _plain(str(e))), soft_wrap=True)
                continue
            if isinstance(move, Leave):
                raise SeatLeft()
            if isinstance(move, Say):
                return move.text
            assert isinstance(move, Show)
            if move.what == "help":
                self.console.print(_plain(HELP))
            elif move.what == "brief":
                self._brief(view)
            else:
                self.console.rule("the conversation so far")
                for m in view.messages:
                    self._message(view, m)

    def show_new(self, view: Observation) -> None:
        """Print the messages of ``view`` not printed yet (at a turn, and when the game ends)."""
        for m in view.messages:
            if m.id not in self._shown:
                self._message(view, m)

    def _read(self, prompt: Text) -> str:
        with _interruptible():
            try:
                return self.console.input(prompt)
            except KeyboardInterrupt:
                self.console.print()
                raise SeatInterrupted() from None
            except EOFError:
                raise SeatInterrupted("the input ended (Ctrl-D) at the human seat") from None

    def _message(self, view: Observation, m: Message) -> None:
        self._shown.add(m.id)
        me = view.agent.id
        who = "you" if m.sender == me else view.names[m.sender]
        to = ", ".join("you" if r == me else view.names[r] for r in sorted(m.recipients)) or "no one"
        self.console.print(Text.assemble((f"{m.turn:>3} ", "dim"), _plain(who, "bold"), (" → ", "dim"),
                                         _plain(to, "dim")), soft_wrap=True)
        self.console.print(Text("    ") + _plain(m.content.replace("\n", "\n    ")), soft_wrap=True)

    def _brief(self, view: Observation) -> None:
        me = view.agent
        self.console.rule(_plain(f"you are {me.name}"))
        lines = [("", me.persona), ("situation: ", view.context), ("your private goal: ", me.goal)]
        for label, text in lines:
            if text:
                self.console.print(Text.assemble((label, "bold"), _plain(text)), soft_wrap=True)
        self.console.print(Text("what you know (only you):", style="bold"))
        for f in view.facts or ():
            self.console.print(Text("  - ") + _plain(f.text), soft_wrap=True)
        if not view.facts:
            self.console.print(Text("  (nothing)"))
        can = ", ".join(view.names[a] for a in sorted(view.neighbours)) or "no one"
        self.console.print(Text.assemble(("you can write to: ", "bold"), _plain(can)), soft_wrap=True)
        self.console.print(Text.assemble(("to commit: ", "bold"), _plain(commit_rule(view))), soft_wrap=True)
        self.console.rule()


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here, whatever handler the program set (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class TerminalHuman(HumanBackend):
    """The ``human`` backend of the registry (entry point): a person at this terminal."""

    def __init__(self) -> None:
        super().__init__(TerminalSeat())
