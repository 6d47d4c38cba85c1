"""The terminal seat: a person plays one agent in a terminal, through rich.

It prints the agent's briefing (who it is, the situation, its private goal and facts,
whom it can write to, how to commit) when the game starts, then each message delivered to
the agent the moment it is delivered, with "<Name> is writing…" while a model writes a
turn (the seat is a :class:`~privy.simulator.seat.SeatListener`), and at each of its turns
reads a line (:mod:`privy.bench.seat_moves`). Only the seat's view is shown: the
Observation in ``agents`` mode; in ``mindreaders`` mode the Mindreading, every agent's
facts under its holder's name and the messages between others marked as not delivered
(shown at the person's turn, as the model at the seat gets them then). Every text from the
scenario or a model goes through :func:`~privy.simulator.terminal.visible` and is printed
as plain text (rich markup in it is not obeyed).

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
from rich.control import Control
from rich.segment import ControlType
from rich.text import Text

from privy.bench.seat_moves import HELP, BadInput, Leave, Say, Show, also_known, commit_rule, read_move
from privy.simulator.backends.human import HumanBackend, SeatInterrupted, SeatLeft
from privy.simulator.bus import Message
from privy.simulator.seat import SeatView
from privy.simulator.terminal import visible
from privy.simulator.views import Mindreading


def _plain(text: str, style: str = "") -> Text:
    return Text(visible(text), style=style)


class TerminalSeat:
    """Reads one agent's turns from a person at this terminal; shows what reaches the agent as it happens."""

    kind = "terminal"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(emoji=False, highlight=False)
        self._shown: set[int] = set()  # ids of the messages printed already
        self._view: SeatView | None = None  # the latest view: names, and whose seat this is
        self._status = False  # a transient "… is writing" is on the current line
        with contextlib.suppress(ImportError):  # line editing and an Up-arrow history, where the platform has it
            import readline  # noqa: F401

    # -- told by the runner as the game goes (SeatListener) -----------------------------------
    def seated(self, view: SeatView) -> None:
        """A new game (a suite plays several at one seat): its briefing; message ids start again."""
        self._view, self._shown = view, set()
        self._clear_status()
        self._brief(view)
        self.console.print(_plain(HELP, "dim"))

    def writing(self, agent: str) -> None:
        if self._view is None:
            return
        self._clear_status()
        text = _plain(f"{self._view.names[agent]} is writing…", "dim italic")
        if self.console.is_terminal and not self.console.is_dumb_terminal:
            self.console.print(text, end="")  # cleared by what is printed next
            self._status = True
        else:
            self.console.print(text)

    def delivered(self, message: Message) -> None:
        if self._view is not None and message.id not in self._shown:
            self._message(self._view, message)

    # -- the person's turn (Seat) -------------------------------------------------------------
    async def turn(self, view: SeatView, max_tokens: int) -> str:
        if self._view is None:
            self.seated(view)
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

    def show_new(self, view: SeatView) -> None:
        """Print the messages of ``view`` not printed yet (at a turn, and when the game ends)."""
        self._view = view
        self._clear_status()
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

    def _clear_status(self) -> None:
        if self._status:
            self.console.control(Control.move_to_column(0), Control((ControlType.ERASE_IN_LINE, 2)))
            self._status = False

    def _message(self, view: SeatView, m: Message) -> None:
        self._clear_status()
        self._shown.add(m.id)
        me = view.agent.id
        who = "you" if m.sender == me else view.names[m.sender]
        to = ", ".join("you" if r == me else view.names[r] for r in sorted(m.recipients)) or "no one"
        head = Text.assemble((f"{m.turn:>3} ", "dim"), _plain(who, "bold"), (" → ", "dim"), _plain(to, "dim"))
        if not m.visible_to(me):  # only a Mindreading holds such a message
            head.append("  (not delivered to you: you read it as a mindreader)", style="dim italic")
        self.console.print(head, soft_wrap=True)
        self.console.print(Text("    ") + _plain(m.content.replace("\n", "\n    ")), soft_wrap=True)

    def _brief(self, view: SeatView) -> None:
        me = view.agent
        self.console.rule(_plain(f"you are {me.name}"))
        if isinstance(view, Mindreading):
            self.console.print(Text("mindreaders mode: you see what the model at this seat sees, every agent's "
                                    "private facts and every message", style="bold"), soft_wrap=True)
        lines = [("", me.persona), ("situation: ", view.context), ("your private goal: ", me.goal)]
        for label, text in lines:
            if text:
                self.console.print(Text.assemble((label, "bold"), _plain(text)), soft_wrap=True)
        if isinstance(view, Mindreading):
            for a in view.agents:
                mine = a.id == me.id
                if not mine:
                    self.console.print(Text.assemble(_plain(a.name, "bold"), ": ", _plain(a.persona),
                                                     (" goal: ", "bold"), _plain(a.goal)), soft_wrap=True)
                self._facts(_plain("what you know:" if mine else f"what {a.name} knows:", "bold"),
                            [(f.text, also_known(view, a.id, f)) for f in view.facts[a.id]])
        else:
            self._facts(Text("what you know (only you):", style="bold"), [(f.text, "") for f in view.facts])
        can = ", ".join(view.names[a] for a in sorted(view.neighbours)) or "no one"
        self.console.print(Text.assemble(("you can write to: ", "bold"), _plain(can)), soft_wrap=True)
        self.console.print(Text.assemble(("to commit: ", "bold"), _plain(commit_rule(view))), soft_wrap=True)
        self.console.rule()

    def _facts(self, label: Text, facts: list[tuple[str, str]]) -> None:
        self.console.print(label)
        for text, also in facts:
            line = Text("  - ") + _plain(text)
            if also:
                line.append(f"  ({also})", style="dim")
            self.console.print(line, soft_wrap=True)
        if not facts:
            self.console.print(Text("  (nothing)"))


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
