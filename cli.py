"""privy's command line: parse, call one library function, print (a thin layer over privy's Python API)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from privy import evaluators
from privy.bench.compare import episode_path, planned_paths
from privy.bench.evaluate import evaluate_files
from privy.bench.store import episode_error
from privy.evaluators.exchange import exchange
from privy.simulator import (
    Episode,
    EpisodeError,
    Message,
    Mode,
    Scenario,
    ScenarioError,
    backends,
    load_episode,
    load_scenario,
    run_episode,
)
from privy.simulator.backends.base import aclose
from privy.simulator.backends.spec import BackendsConfig, BackendSpec, build, load_backends_config
from privy.simulator.episode import ModelCall, Source
from privy.simulator.loader import Problem
from privy.simulator.modes import RUNNABLE, NotRunnableError, runnable
from privy.simulator.terminal import visible
from privy.simulator.views import seen_by

T = TypeVar("T")

HELP = {"help_option_names": ["-h", "--help"]}  # inherited by every command and sub-command
app = typer.Typer(
    help="Simulate conversations between LLM agents that hold private information.",
    no_args_is_help=True,
    add_completion=False,
    context_settings=HELP,
)
# Model text is printed as it is: no emoji codes, no highlighting, no hard wrapping.
out = Console(emoji=False, highlight=False)
err = Console(stderr=True, emoji=False, highlight=False)

MAX_SEED = 2**63 - 1
ModeOpt = Annotated[Mode, typer.Option("--mode", "-m", help="Who writes and what they see.")]


class _Notices(logging.Handler):
    """privy's log records of level INFO and up, as plain lines on stderr (e.g. "loading model PATH (N MB)...")."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(self.format(record), markup=False, soft_wrap=True)


def _show_notices() -> None:
    logger = logging.getLogger("privy")
    if not any(isinstance(h, _Notices) for h in logger.handlers):
        logger.addHandler(_Notices())
        logger.setLevel(logging.INFO)


@dataclass(frozen=True)
class BackendArgs:
    """The backend options every command that runs episodes takes (see :func:`backend_options`)."""

    backend: str = "llama"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    opt: list[str] | None = None
    cache: Path | None = None
    max_concurrent: int | None = None
    backends_file: Path | None = None


_BACKEND_OPTIONS = {
    "backend": Annotated[str, typer.Option("--backend", "-b", help=(
        f"Backend name: {', '.join(backends.available())} (see `privy backends`)."))],
    "model": Annotated[str | None, typer.Option(
        "--model", help="llama: a .gguf file (default: the embedded SmolLM2); openai: the model name.")],
    "base_url": Annotated[str | None, typer.Option(
        "--base-url", help="openai: endpoint of any OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")],
    "api_key_env": Annotated[str | None, typer.Option(
        "--api-key-env", help="openai: environment variable that holds the API key (default: OPENAI_API_KEY).")],
    "opt": Annotated[list[str] | None, typer.Option(
        "--opt", help="Any backend option as KEY=VALUE (YAML value), repeatable, e.g. --opt timeout_s=30.")],
    "cache": Annotated[Path | None, typer.Option("--cache", help="SQLite response cache file.")],
    "max_concurrent": Annotated[int | None, typer.Option(
        "--max-concurrent", min=1, help="Concurrent calls per backend.")],
    "backends_file": Annotated[Path | None, typer.Option(
        "--backends", help="A backends YAML file (a default and per-agent backends); overrides --backend.")],
}


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the backend options, passed to it as one ``backend: BackendArgs``."""
    sig = inspect.signature(command, eval_str=True)
    own = [p for name, p in sig.parameters.items() if name != "backend"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                               default=getattr(BackendArgs, name))
             for name, annotation in _BACKEND_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        chosen = BackendArgs(**{name: kwargs.pop(name) for name in _BACKEND_OPTIONS})
        command(*args, backend=chosen, **kwargs)

    params = own + added
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


def _safe(text: object) -> str:
    """Text from a model, a scenario or an episode, for rich: control characters visible, markup escaped."""
    return escape(visible(str(text)))


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {_safe(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _problems(problems: list[Problem]) -> None:
    """Print each problem and warning (``FILE:LINE: FIELD: message``) on its line; exit 2 if any is not a warning."""
    for p in problems:
        err.print(_safe(p), soft_wrap=True)
    errors = [p for p in problems if not p.warning]
    if errors:
        err.print(f"[red]{len(errors)} problem(s) in {len({p.file for p in errors})} file(s)[/red]")
        raise typer.Exit(2)


ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite output files that exist already.")]
ProbeEveryOpt = Annotated[int | None, typer.Option(
    "--probe-every", min=1, help="Belief probes before every K-th turn of each agent (its 1st, K+1-th, ...), "
                                 "from the request that writes the turn; logged in the episode, never in a "
                                 "prompt (default: none).")]
ProbeFinalOpt = Annotated[bool | None, typer.Option(
    "--probe-final/--no-probe-final", show_default=False,
    help="With probes: also probe every agent after the last message (final beliefs, and ΔBelief for the messages "
         "after an agent's last turn; each agent evaluates what it has not seen yet, so it costs more than the "
         "per-turn probes). Default: off.")]
ProbeFactsOpt = Annotated[int | None, typer.Option(
    "--probe-facts", min=0, help="With probes: also ask each probed agent whether each other agent knows "
                                 "N of its own facts (FANToM-style knowledge questions; default 0: belief only, "
                                 "the cheaper probe).")]


def _probes(every: int | None, facts: int | None = None, final: bool | None = None, base: Any = None) -> Any:
    """The probe settings: ``base`` (a suite's own, or None) with the flags given on top of it."""
    from privy.simulator.probes import ProbeSettings

    if every is None and base is None:
        for flag, given in (("--probe-facts", facts is not None), ("--probe-final", final is not None)):
            if given:
                _fail(f"{flag} needs --probe-every")
        return None
    update = {k: v for k, v in (("every", every), ("facts", facts), ("final", final)) if v is not None}
    return ProbeSettings(**update) if base is None else base.model_copy(update=update)


def _check_output(path: Path, flag: str, force: bool) -> None:
    """Fail (exit 2) unless ``path`` can be written: not a folder, absent unless ``force``, in a writable folder.

    Checked before any model call, so a bad path never costs a run.
    """
    where = f"{flag} {path}".lstrip()  # flag "": a default path the user did not type
    if path.is_dir():
        _fail(f"{where}: is a folder; expected a file path")
    if path.exists() and not force:
        _fail(f"{where}: the file exists; pass --force to overwrite it")
    _check_folder(path.parent, flag, path)


def _check_folder(folder: Path, flag: str, path: Path | None = None) -> None:
    """Fail unless ``folder`` is, or can be created as, a folder this process can write in."""
    where = f"{flag} {path if path is not None else folder}".lstrip()
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        _fail(f"{where}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        _fail(f"{where}: cannot write in {existing} (permission denied)")


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as e:
        for p in e.problems:
            err.print(_safe(p), soft_wrap=True)
        raise typer.Exit(2) from None


def _key_values(items: list[str] | None, flag: str) -> dict[str, Any]:
    """Repeated ``KEY=VALUE`` options; each value is read as YAML (numbers, booleans, lists)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"{flag} {item!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def _backends(args: BackendArgs, mode: Mode | None = None) -> tuple[backends.Backend, dict[str, backends.Backend]]:
    """The default backend and the per-agent ones, from the command line or a backends file.

    ``mode``: fail (exit 2, before anything is built) if a backend declares it cannot play it (e.g. ``human``).
    """
    try:
        if args.backends_file is not None:
            config = load_backends_config(args.backends_file)
        else:
            options = _key_values(args.opt, "--opt")
            named = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env}
            options.update({k: v for k, v in named.items() if v is not None})
            spec = BackendSpec(name=args.backend, options=options, cache=args.cache,
                               max_concurrent=args.max_concurrent)
            config = BackendsConfig(default=spec)
        people = [a for a, spec in config.agents.items() if spec.name == "human"]
        if config.default.name == "human" or len(people) > 1:
            _fail("a person plays one agent of an episode: name one agent's backend 'human' in a backends file, "
                  "or use `privy play SCENARIO --as AGENT`")
        if mode is not None:
            for where, spec in [("--backend", config.default), *((f"agent {a}", s) for a, s in config.agents.items())]:
                playable = backends.registry.modes(spec.name)
                if playable is not None and mode.value not in playable:
                    _fail(f"{where}: backend {spec.name!r} cannot play mode {mode.value!r}; it plays "
                          f"{', '.join(sorted(playable))}")
        return build(config.default), {a: build(s) for a, s in config.agents.items()}
    except backends.BackendError as e:
        _fail(str(e))
        raise


async def _closing(coro: Coroutine[Any, Any, T], *used: backends.Backend) -> T:
    """Await ``coro``, then close what the backends opened for this event loop."""
    try:
        return await coro
    finally:
        for b in used:
            await aclose(b)


def _print_message(m: Message, names: dict[str, str]) -> None:
    to = ", ".join(names[r] for r in sorted(m.recipients)) or "(no one)"
    out.print(f"[dim]{m.turn:>3}[/dim] [bold]{_safe(names[m.sender])}[/bold] [dim]→ {_safe(to)}[/dim]")
    out.print("    " + _safe(m.content).replace("\n", "\n    "), soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("privy-sim")
        except PackageNotFoundError:  # run from a source tree that is not installed
            number = "unknown (not installed)"
        out.print(f"privy {number}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print privy's version and exit.")] = False,
) -> None:
    """Simulate conversations between LLM agents that hold private information."""
    _show_notices()


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(
        help="Scenario files or folders, suite files (*.suite.yaml) or backends files (--backends).")]) -> None:
    """Check scenario, suite and backends files; print every problem as FILE:LINE: FIELD: what was expected.

    A scenario that declares its family is also checked against the family's ground truth; a
    suite is checked whole, with every scenario it names. Exit code 2 if any file has a problem.
    """
    from privy.bench.validate import validate_paths
    from privy.simulator.loader import NoScenarioFiles

    try:
        problems = validate_paths(list(paths))
    except NoScenarioFiles as e:
        _fail(str(e))
        raise
    _problems(problems)
    warned = len(problems)  # only warnings are left
    out.print("[green]all valid[/green]" + (f" ({warned} warning(s))" if warned else ""))


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (generated from the pydantic models)."""
    out.print_json(json.dumps(Scenario.model_json_schema()))


@app.command()
@backend_options
def run(
    scenario_file: Annotated[Path, typer.Argument(help="A scenario YAML file.", metavar="SCENARIO")],
    mode: ModeOpt = Mode.AGENTS,
    seed: Annotated[int, typer.Option(
        min=0, max=MAX_SEED, help="Seeds the environment and every model call (0 to 2**63-1).")] = 0,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Episode JSON to write (default: runs/SCENARIO.MODE.BACKEND.seedN.json).")] = None,
    force: ForceOpt = False,
    probe_every: ProbeEveryOpt = None,
    probe_facts: ProbeFactsOpt = None,
    probe_final: ProbeFinalOpt = None,
    backend: BackendArgs = BackendArgs(),
) -> None:
    """Run one scenario in one mode, print the conversation and write the episode log.

    Exits 1 when a failed model call ended the episode (the log is still written).
    """
    try:
        runnable(mode)
    except NotRunnableError as e:
        _fail(f"--mode: {e}")
    probes = _probes(probe_every, probe_facts, probe_final)
    scenario = _load(scenario_file)
    if out_file is not None:
        _check_output(out_file, "--out", force)
    b, per_agent = _backends(backend, mode)
    unknown = sorted(set(per_agent) - set(scenario.agent_ids))
    if unknown:
        _fail(f"{backend.backends_file}: agents {unknown} are not in {scenario_file} ({scenario.agent_ids})")
    if out_file is None:
        out_file = episode_path("runs", scenario.id, mode, b.name, seed)
        _check_output(out_file, "", force)
    names = {a.id: a.name for a in scenario.agents}
    out.rule(f"{_safe(scenario.title)} · {mode.value} · {_safe(b.name)}")
    episode = asyncio.run(_closing(run_episode(
        scenario, mode, b, seed, agent_backends=per_agent or None, scenario_path=str(scenario_file),
        on_message=lambda m: _print_message(m, names), probes=probes,
    ), b, *per_agent.values()))
    path = episode.save(out_file)
    o = episode.outcome
    out.rule()
    out.print(f"ended by [bold]{o.ended_by}[/bold] after {o.turns} turns; "
              f"decision: {_safe(o.decision)}; success: {o.success}")
    errors = [c.error for c in episode.calls if c.error]
    failed = episode_error(episode)
    if failed is not None:
        err.print(f"[red]error:[/red] the episode ended in error: {_safe(failed)}", soft_wrap=True)
    elif errors:
        err.print(f"[yellow]{len(errors)} model call(s) failed; first: {_safe(errors[0])}[/yellow]", soft_wrap=True)
    out.print(f"episode written to {_safe(path)}", soft_wrap=True)
    if failed is not None:
        raise typer.Exit(1)
    if o.ended_by == "interrupted":  # Ctrl-C at a human seat (--backends with a 'human' agent)
        raise typer.Exit(130)


@app.command()
@backend_options
def play(
    scenario_file: Annotated[Path, typer.Argument(help="A scenario YAML file.", metavar="SCENARIO")],
    as_agent: Annotated[str, typer.Option("--as", help="The agent you play (its id).")],
    mode: ModeOpt = Mode.AGENTS,
    seed: Annotated[int, typer.Option(
        min=0, max=MAX_SEED, help="Seeds the environment and every model call (0 to 2**63-1).")] = 0,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Episode JSON to write (default: runs/SCENARIO.agents.BACKEND+human-AGENT.seedN.json).")] = None,
    web: Annotated[bool, typer.Option(
        "--web", help="Play in a browser: serve one page on 127.0.0.1 (the terminal only shows its address).")] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for --web (0: any free one).")] = 8000,
    force: ForceOpt = False,
    backend: BackendArgs = BackendArgs(),
) -> None:
    """Take a seat: play one agent yourself, in the terminal (or a browser, --web); models play the others.

    You see what that agent's model would: in mode agents its own goal and facts, the
    messages delivered to it (each as it is delivered) and whom it can write to; in mode
    mindreaders every agent's facts too. Type /help at the prompt. Ctrl-C saves what was
    played and exits 130; /leave ends the game and saves it. Exits 1 when a failed model
    call ended the episode.
    """
    from privy.bench.play import PlayError, StopFlag, check_seat, final_view, play, stop_on_sigint
    from privy.bench.seat_terminal import TerminalSeat

    scenario = _load(scenario_file)
    try:
        check_seat(scenario, as_agent, mode)
    except PlayError as e:
        _fail(str(e))
    if out_file is not None:
        _check_output(out_file, "--out", force)
    b, per_agent = _backends(backend, mode)
    per_agent.pop(as_agent, None)  # the person's seat
    if others := sorted(a for a, x in per_agent.items() if x.name == "human"):
        _fail(f"{backend.backends_file}: agents {others} are 'human' too; a person plays one agent (--as)")
    unknown = sorted(set(per_agent) - set(scenario.agent_ids))
    if unknown:
        _fail(f"{backend.backends_file}: agents {unknown} are not in {scenario_file} ({scenario.agent_ids})")
    if out_file is None:
        out_file = episode_path("runs", scenario.id, mode, f"{b.name}+human-{as_agent}", seed)
        _check_output(out_file, "", force)
    flag = StopFlag()
    terminal = TerminalSeat(out)
    web_seat = None
    if web:
        from privy.bench.seat_web import WebSeat

        try:
            web_seat = WebSeat(port, should_stop=lambda: flag.is_set)
        except OSError as e:
            _fail(f"--port {port}: cannot listen on 127.0.0.1:{port} ({e.strerror})")
            raise
        out.print(f"your seat is at {web_seat.url} : open it in a browser (Ctrl-C here stops the game)",
                  soft_wrap=True)
    try:
        with stop_on_sigint(flag):
            episode = asyncio.run(_closing(play(
                scenario, as_agent, web_seat or terminal, b, mode=mode, seed=seed, agent_backends=per_agent,
                scenario_path=str(scenario_file), stop=flag), b, *per_agent.values()))
        o = episode.outcome
        final = final_view(episode, as_agent)
        if web_seat is not None:
            web_seat.finish(final, f"ended by {o.ended_by} after {o.turns} turns; success: {o.success}",
                            wait_s=0 if o.ended_by == "interrupted" else 5)
        else:
            terminal.show_new(final)
    finally:
        if web_seat is not None:
            web_seat.close()
    path = episode.save(out_file)
    out.rule()
    out.print(f"game over: ended by [bold]{o.ended_by}[/bold] after {o.turns} turns; success: {o.success}")
    out.print(f"episode written to {_safe(path)}", soft_wrap=True)
    failed = episode_error(episode)
    if failed is not None:
        err.print(f"[red]error:[/red] the episode ended in error: {_safe(failed)}", soft_wrap=True)
        raise typer.Exit(1)
    if o.ended_by == "interrupted":
        raise typer.Exit(130)


@app.command()
def show(
    episode_file: Annotated[Path, typer.Argument(help="An episode JSON file.", metavar="EPISODE")],
    as_agent: Annotated[str | None, typer.Option("--as", help="Show only what this agent saw.")] = None,
    turn: Annotated[int | None, typer.Option(help="Stop at this turn; show the prompt made then.")] = None,
) -> None:
    """Print an episode, as everyone saw it or as one agent saw it."""
    try:
        ep = load_episode(episode_file)
    except EpisodeError as e:
        _fail(str(e))
        raise
    s = ep.scenario
    names = {a.id: a.name for a in s.agents}
    if as_agent is not None and as_agent not in names:
        _fail(f"--as {as_agent}: no such agent in {episode_file}; expected one of {sorted(names)}")
    if turn is not None:
        last = max([m.turn for m in ep.messages] + [c.turn for c in ep.calls] + [ep.outcome.turns], default=0)
        if not 0 <= turn <= last:
            _fail(f"--turn {turn}: {episode_file} has turns 0 to {last}; expected one of them")
    where = f"{ep.mode.value} · seed {ep.seed} · {_safe(ep.backend.get('backend'))}"
    if as_agent is not None:
        _show_as(ep, as_agent, turn, where)
        return
    out.rule(f"{_safe(s.title)} · {where}")
    for a in s.agents:
        out.print(f"[bold]{_safe(a.name)}[/bold] ({_safe(a.id)}) goal: {_safe(a.goal)}", soft_wrap=True)
        for f in s.facts_of(a.id):
            out.print(f"   [dim]{_safe(f.id)}[/dim] {_safe(f.text)}", soft_wrap=True)
    out.rule("messages")
    for m in ep.messages:
        if turn is not None and m.turn >= turn:
            break
        _print_message(m, names)
    if turn is not None:
        for c in (c for c in ep.calls if c.turn == turn):
            _print_call(c, f"model call {c.index} at turn {turn} for {_safe(c.speaker or 'the script')}: exact input")
    o = ep.outcome
    out.rule()
    out.print(f"ended by {o.ended_by} after {o.turns} turns; decision: {_safe(o.decision)}; "
              f"success: {o.success}")
    if ep.source is not None:
        _print_source(ep.source, names)


def _print_source(src: Source, names: dict[str, str]) -> None:
    """Where an imported episode came from, and the scores its source gave (not privy's)."""
    out.print(f"imported ({_safe(src.format)}) from {_safe(src.file)}, record {_safe(src.record)}", soft_wrap=True)
    if src.scores is None:
        return
    out.rule(f"{_safe(src.scores.by)}'s own scores (from the source file, not privy's evaluators)")
    for sc in src.scores.scores:
        dims = ", ".join(f"{_safe(k)} {v:g}" for k, v in sc.dimensions.items())
        overall = "" if sc.overall is None else f"overall {sc.overall:g}" + ("; " if dims else "")
        out.print(f"[bold]{_safe(names.get(sc.agent, sc.agent))}[/bold]: {overall}{dims}", soft_wrap=True)
    if src.scores.reasoning:
        out.print(f"[dim]reasoning: {_safe(src.scores.reasoning)}[/dim]", soft_wrap=True)


def _print_call(c: ModelCall, title: str, output: bool = True) -> None:
    out.rule(title)
    for cm in c.input:
        out.print(f"[bold]{cm.role}[/bold]: {_safe(cm.content)}", soft_wrap=True)
    if output:
        out.print(f"[bold]output[/bold]: {_safe(c.output)}", soft_wrap=True)
        if c.error:
            out.print(f"[red]error[/red]: {_safe(c.error)}", soft_wrap=True)


def _show_as(ep: Episode, agent: str, turn: int | None, where: str) -> None:
    """Only what ``agent`` had seen when ``turn`` began: never the outcome, others' facts or the answer."""
    s = ep.scenario
    names = {a.id: a.name for a in s.agents}
    obs = seen_by(s, ep.messages, agent, turn)
    me = obs.agent
    out.rule(f"as {_safe(me.name)} ({_safe(agent)}) · {where}" + ("" if turn is None else f" · turn {turn}"))
    out.print(f"[bold]situation[/bold]: {_safe(obs.context)}", soft_wrap=True)
    out.print(f"[bold]{_safe(me.name)}[/bold]: {_safe(me.persona)} goal: {_safe(me.goal)}", soft_wrap=True)
    for f in obs.facts:
        out.print(f"   [dim]{_safe(f.id)}[/dim] {_safe(f.text)}", soft_wrap=True)
    out.rule(f"messages {_safe(me.name)} sent or received" + ("" if turn is None else f" before turn {turn}"))
    for m in obs.messages:
        _print_message(m, names)
    if turn is not None:
        for c in (c for c in ep.calls if c.turn == turn and c.speaker == agent):
            if ep.mode is Mode.AGENTS:  # built from the agent's observation alone
                _print_call(c, f"model call {c.index}: {_safe(me.name)}'s exact input at turn {turn}", output=False)
            else:  # the writer was given every agent's facts: not this agent's view
                out.rule(f"model call {c.index} at turn {turn}")
                out.print(f"(in {ep.mode.value} mode the writer of {_safe(me.name)}'s turn saw every agent's facts; "
                          f"`privy show EPISODE --turn {turn}` prints its input)", soft_wrap=True)
    out.rule()
    out.print(f"(what {_safe(me.name)} had not seen, the outcome among it, is left out; "
              f"`privy show EPISODE` prints everything)", soft_wrap=True)


@app.command()
@backend_options
def compare(
    scenario_files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.", metavar="SCENARIO...")],
    modes: Annotated[str, typer.Option(help="Comma-separated modes.")] = "agents,mindreaders,omniscient,script",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per scenario and mode (0..N-1).")] = 1,
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Where episodes are written, as SCENARIO.MODE.BACKEND.seedN.json.")] = Path("runs"),
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Episodes in flight at once.")] = 1,
    force: ForceOpt = False,
    probe_every: ProbeEveryOpt = None,
    probe_facts: ProbeFactsOpt = None,
    probe_final: ProbeFinalOpt = None,
    backend: BackendArgs = BackendArgs(),
) -> None:
    """Run scenarios in several modes on one backend and tabulate the outcomes.

    Exits 1 when a failed model call ended any episode (its log is still written).
    """
    from privy.bench import compare as compare_modes

    probes = _probes(probe_every, probe_facts, probe_final)
    try:
        mode_list = [runnable(m.strip()) for m in modes.split(",") if m.strip()]
    except NotRunnableError as e:
        _fail(f"--modes: {e}")
        raise
    except ValueError as e:
        _fail(f"--modes: {e}; expected some of {[m.value for m in RUNNABLE]}")
        raise
    if backend.backend == "replay" and backend.backends_file is None:
        _fail("compare runs many episodes; replay one episode with `privy run --backend replay`")
    scenarios = [(p, _load(p)) for p in scenario_files]
    _check_folder(out_dir, "--out-dir")
    b, per_agent = _backends(backend)
    for path in planned_paths([s for _, s in scenarios], mode_list, range(seeds), b.name, out_dir):
        _check_output(path, "--out-dir", force)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=out) as bar:
        task = bar.add_task("episodes", total=len(scenarios) * len(mode_list) * seeds)

        def tick(p: Any, cell: Any, error: str | None) -> None:
            bar.update(task, advance=1, description=f"{_safe(cell.scenario_id)} · {cell.mode.value} · seed {cell.seed}")

        results: list[Episode] = compare_modes(scenarios, mode_list, range(seeds), b, out_dir,
                                               agent_backends=per_agent, jobs=jobs, on_progress=tick, force=True,
                                               probes=probes)
    for scenario_id in dict.fromkeys(ep.scenario.id for ep in results):
        table = Table(title=f"{_safe(scenario_id)} · backend {_safe(b.name)}", title_justify="left",
                      box=box.SIMPLE_HEAD)
        for col in ("mode", "seed", "turns", "ended by", "success", "needed\nsaid",
                    "answer\nnamed at", "words\n/turn"):
            table.add_column(col, no_wrap=True)
        for ep in (e for e in results if e.scenario.id == scenario_id):
            x = exchange(ep)
            pos = "never" if x.answer_first_named_at is None else f"{x.answer_first_named_at:.2f}"
            table.add_row(ep.mode.value, str(ep.seed), str(ep.outcome.turns),
                          ep.outcome.ended_by, "yes" if ep.outcome.success else "no",
                          f"{x.needed_disclosed}/{x.needed_total}", pos, f"{x.words_per_turn:.1f}")
        out.print(table)
    out.print(f"{len(results)} episodes written to {out_dir}/ (read one with "
              "`privy show FILE --as AGENT`)", soft_wrap=True)
    failed = [(ep, why) for ep in results if (why := episode_error(ep)) is not None]
    if failed:
        ep, first = failed[0]
        err.print(f"[red]error:[/red] {len(failed)} of {len(results)} episode(s) ended in error; first: "
                  f"{_safe(ep.scenario.id)} · {ep.mode.value} · seed {ep.seed}: {_safe(first)}", soft_wrap=True)
        raise typer.Exit(1)


def _print_table(table: Table) -> None:
    """Print ``table`` at least as wide as it needs so that no cell breaks inside a word or a number."""
    needed = out.measure(table, options=out.options.update_width(10_000)).minimum
    if needed > out.width:
        table.width = needed  # wider than the terminal (which then wraps whole lines), never a broken number
    out.print(table, crop=False)


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


@app.command()
def evaluate(
    episode_files: Annotated[list[Path], typer.Argument(help="Episode JSON files.", metavar="EPISODE...")],
    names: Annotated[str | None, typer.Option(
        "--evaluators", "-e", help="Comma-separated evaluators (default: every deterministic one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")] = False,
    judge_backend: Annotated[str, typer.Option(help="Backend of llm_judge and LLM classifiers.")] = "llama",
    show_findings: Annotated[bool, typer.Option(
        "--findings", help="Also list the evidence: message, agent, fact and reason of each finding.")] = False,
) -> None:
    """Score episodes: a table per episode and the mean per mode, or JSON."""
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else list(evaluators.DETERMINISTIC)
    unknown = [n for n in chosen if n not in evaluators.available()]
    if unknown:
        _fail(f"--evaluators: unknown {unknown}; expected some of {evaluators.available()}")
    options: dict[str, dict[str, Any]] = {"llm_judge": {"backend": judge_backend}}
    from privy.bench.execute import ProgressLine

    line = ProgressLine("evaluate", len(episode_files), lambda t: err.print(t, markup=False, soft_wrap=True),
                        every=0)  # a line per episode: an LLM judge takes minutes over one
    result = asyncio.run(evaluate_files(list(episode_files), chosen, options, lambda i, n, path: line.update(i)))
    for problem in result.unreadable:
        err.print(f"[red]error:[/red] {_safe(problem)}", soft_wrap=True)
    if as_json:
        typer.echo(visible(result.model_dump_json(include={"episodes", "mean_by_backend_and_mode"}, indent=2)))
    else:
        for r in result.episodes:
            table = Table(title=_safe(f"{r.file} · {r.scenario} · {r.mode} · {r.backend} · seed {r.seed}"),
                          title_justify="left", box=box.SIMPLE_HEAD)
            table.add_column("evaluator")
            table.add_column("value", no_wrap=True)
            table.add_column("metrics")  # wraps between metrics, never inside a number
            table.add_column("findings", no_wrap=True, justify="right")
            for name, score in r.scores.items():
                metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in score.metrics.items())
                value = _fmt(score.value) if not score.error else f"[red]error[/red]: {_safe(score.error)}"
                table.add_row(_safe(name), value, _safe(metrics), str(len(score.findings)))
            _print_table(table)
            if show_findings:
                for name, score in r.scores.items():
                    for f in score.findings:
                        where = f"message {f.message_id}" if f.message_id is not None else "episode"
                        fact = f" · {f.fact_id}" if f.fact_id else ""
                        out.print(f"  [bold]{_safe(name)}[/bold] {_safe(f'{f.kind} · {where} · {f.agent}{fact}')}: "
                                  f"{_safe(f.reason)}", soft_wrap=True)
        if len(result.episodes) > 1:
            means = result.mean_by_backend_and_mode
            groups = [(b, m) for b in sorted(means) for m in sorted(means[b])]
            table = Table(title="mean value per backend and mode", title_justify="left", box=box.SIMPLE_HEAD)
            table.add_column("evaluator")
            for b, m in groups:
                table.add_column(f"{_safe(b)}\n{m}", no_wrap=True, justify="right")
            for name in chosen:
                table.add_row(_safe(name), *(_fmt(means[b][m].get(name)) for b, m in groups))
            _print_table(table)
    unscored = result.unscored()
    for name, why in unscored.items():
        err.print(f"[red]error:[/red] {_safe(name)} could not score any of the {len(result.episodes)} episode(s): "
                  f"{_safe(why)}", soft_wrap=True)
    if result.unreadable:
        raise typer.Exit(2)  # bad input, though what could be read was scored
    if unscored:
        raise typer.Exit(1)


@app.command("backends")
def list_backends() -> None:
    """List the backends privy knows, and why any cannot be used here."""
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("backend", "usable", "from", "detail"):
        table.add_column(col)
    for info in backends.describe():
        usable = "yes" if info.available else "[red]no[/red]"
        table.add_row(_safe(info.name), usable, _safe(info.origin), _safe(info.detail))
    out.print(table)


@app.command()
def bench(
    suite_file: Annotated[Path, typer.Argument(help="A suite YAML file.", metavar="SUITE")],
    out_db: Annotated[Path, typer.Option("--out", help="SQLite result store (created or resumed).")] = Path(
        "results.db"),
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Episodes in flight at once.")] = 1,
    executor: Annotated[str, typer.Option(
        "--executor", help="local (asyncio in this process) or ray (one Ray task per episode; needs Ray).")] = "local",
    address: Annotated[str | None, typer.Option(
        "--address", help="Ray cluster address HOST:PORT (--executor ray; default: start a local Ray).")] = None,
    probe_every: ProbeEveryOpt = None,
    probe_facts: ProbeFactsOpt = None,
    probe_final: ProbeFinalOpt = None,
) -> None:
    """Run a suite's grid (scenarios x modes x backends x seeds); rerun to resume."""
    from privy.bench import ResultStore, StoreError, SuiteError, run_bench
    from privy.bench.execute import HumanSeatError, ProgressLine, SeatInterruptedError, check_human_seats
    from privy.bench.ray_executor import RayConnectError
    from privy.bench.run import EXECUTORS
    from privy.bench.suite import load_grid

    if executor not in EXECUTORS:
        _fail(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if address is not None and executor != "ray":
        _fail("--address needs --executor ray")
    if executor == "ray":
        from privy.bench.ray_executor import RayMissingError, import_ray

        try:
            import_ray()
        except RayMissingError as e:
            _fail(str(e))
            raise
    try:
        # streamed: only the cells' keys are kept, and the episodes in flight; every scenario is
        # loaded once for them, so every problem of the suite is reported here, before anything runs
        grid = load_grid(suite_file)
        # the flags given, over the suite's own `probes` (--probe-facts/--probe-final alone need a suite with some)
        grid.suite.probes = _probes(probe_every, probe_facts, probe_final, grid.suite.probes)
        suite, planned = grid.suite, grid.keys()
        check_human_seats(suite, jobs, executor)  # before the store is created
        store = ResultStore(out_db)
    except SuiteError as e:
        _problems(e.problems)
        raise
    except (StoreError, backends.BackendError, HumanSeatError) as e:
        _fail(str(e))
        raise
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
    done_before = len(store.done_keys() & set(planned))
    # on a terminal a live bar; in a log or a pipe, where a bar shows nothing, a line every 5 s; with a
    # person at a seat, who types in this terminal, only the last line
    human = bool(suite.human_seats())
    line = None if err.is_terminal and not human else ProgressLine(
        "bench", len(planned), lambda t: err.print(t, markup=False, soft_wrap=True), start=done_before,
        every=float("inf") if human else 5.0)
    with Progress(*columns, console=err, disable=line is not None) as bar:
        task = bar.add_task(_safe(suite.name), total=len(planned), completed=done_before, rate="")

        def tick(p: Any, cell: Any, error: str | None) -> None:
            if error:
                err.print(f"[yellow]failed[/yellow] {_safe(cell.key)}: {_safe(error)}", soft_wrap=True)
            if line is not None:
                line.update(p.skipped + p.done + p.failed, p.failed)
                return
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, advance=1, rate=f"{(p.done + p.failed) / elapsed * 60:.1f} ep/min")

        try:
            progress = run_bench(suite, grid, store, jobs, tick, executor, address)
        except (backends.BackendError, RayConnectError, SuiteError) as e:  # SuiteError: a file changed meanwhile
            _fail(str(e))
            raise
        except SeatInterruptedError as e:
            store.close()
            err.print(f"stopped: {_safe(e)}; the episodes finished before are in {_safe(out_db)}", soft_wrap=True)
            raise typer.Exit(130) from None
    if line is not None:
        line.update(progress.skipped + progress.done + progress.failed, progress.failed, force=True)
    store.close()
    out.print(f"{progress.done} episodes run, {progress.failed} failed, {progress.skipped} already done; "
              f"results in {out_db} (next: `privy report {out_db}`)", soft_wrap=True)
    if progress.failed:
        raise typer.Exit(1)


@app.command()
def report(
    db: Annotated[Path, typer.Argument(help="A result store written by `privy bench`.", metavar="RESULTS_DB")],
    html_file: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report.")] = None,
    md_file: Annotated[Path | None, typer.Option("--md", help="Write a Markdown report.")] = None,
    price_per_1k: Annotated[float, typer.Option(
        "--price-per-1k", min=0, help="Price per 1000 tokens for the cost total (0 for local models).")] = 0.0,
    resamples: Annotated[int, typer.Option(min=100, help="Bootstrap resamples per interval.")] = 5000,
    force: ForceOpt = False,
) -> None:
    """Means with 95% bootstrap CIs per mode, paired gaps between modes, cost, Simulation Card."""
    from privy.bench import StoreError, build_report, print_report, to_html, to_markdown
    from privy.bench.report import PLOTS_MISSING, plots_available

    for flag, path in (("--md", md_file), ("--html", html_file)):
        if path is not None:
            _check_output(path, flag, force)
    try:
        r = build_report(db, price_per_1k=price_per_1k, n_resamples=resamples)
    except StoreError as e:
        _fail(str(e))
        raise
    print_report(r, out)
    for path, text in ((md_file, to_markdown), (html_file, to_html)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(r), encoding="utf-8")
            out.print(f"written: {path}", soft_wrap=True)
    if html_file is not None and not plots_available():
        err.print(PLOTS_MISSING, soft_wrap=True, markup=False)


@app.command()
def view(
    inputs: Annotated[list[Path], typer.Argument(
        help="A result store (.db) from `privy bench`, or episode JSON files or folders of them.",
        metavar="RESULTS_DB | EPISODE...")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="The HTML file to write (default: RESULTS_DB.view.html, or view.html).")] = None,
    serve_it: Annotated[bool, typer.Option("--serve", help="Also serve the page on 127.0.0.1 until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for --serve (0: any free one).")] = 8000,
    force: ForceOpt = False,
) -> None:
    """Write a self-contained HTML transcript viewer: modes side by side, facts, failures, per-agent view."""
    from privy.bench import StoreError, ViewError, from_episodes, from_store
    from privy.bench.execute import ProgressLine
    from privy.bench.view_html import serve, write

    stores = [p for p in inputs if p.suffix in (".db", ".sqlite", ".sqlite3")]
    if stores and len(inputs) > 1:
        _fail(f"{stores[0]}: give one result store, or episode files; not both")
    target = out_file or (stores[0].with_suffix(".view.html") if stores else Path("view.html"))
    _check_output(target, "--out", force)
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(p.rglob("*.json"))
            if not found:
                _fail(f"{p}: folder has no episode .json files")
            files += found
        elif not p.exists():
            _fail(f"{p}: no such file")
        else:
            files.append(p)
    line: ProgressLine | None = None

    def tick(n: int, total: int) -> None:  # a line every 2 s on stderr, and the last one
        nonlocal line
        line = line or ProgressLine("view", total, lambda t: err.print(t, markup=False, soft_wrap=True), every=2.0)
        line.update(n, force=n == total)

    unreadable: list[str] = []

    def skip(problem: str) -> None:
        unreadable.append(problem)
        err.print(f"[red]error:[/red] {_safe(problem)} (left out)", soft_wrap=True)

    try:
        data = from_store(stores[0], tick) if stores else from_episodes(list(files), tick, skip)
    except (StoreError, EpisodeError, ViewError) as e:
        _fail(str(e))
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    write(data, target)
    out.print(f"written: {target} ({len(data.runs)} runs of {len(data.instances)} scenario instances; "
              f"open it in a browser, no network needed)", soft_wrap=True)
    if serve_it:
        try:
            server = serve(target.read_text(encoding="utf-8"), port)
        except OSError as e:
            _fail(f"--port {port}: cannot listen on 127.0.0.1:{port} ({e.strerror})")
            raise
        out.print(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", soft_wrap=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    if unreadable:
        raise typer.Exit(2)  # bad input, though the page shows every episode that could be read


@app.command("export")
def export_cmd(
    db: Annotated[Path, typer.Argument(help="A result store written by `privy bench`.", metavar="RESULTS_DB")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl or parquet (needs pyarrow).")] = "csv",
    table: Annotated[str, typer.Option(
        "--table", "-t", help="episodes, scores, messages, model_calls, or all.")] = "all",
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="File (one table) or folder (all); default: next to the store, as DB.TABLE.FORMAT.")] = None,
    episode_json: Annotated[bool, typer.Option(
        "--episode-json", help="Keep the whole episode log column of the episodes table.")] = False,
    force: ForceOpt = False,
) -> None:
    """Write the store's tables as CSV, JSON Lines or Parquet, for pandas (all files or none)."""
    from privy.bench import ExportError, StoreError, export
    from privy.bench.export import FORMATS, TABLES, export_paths

    if fmt not in FORMATS:
        _fail(f"--format {fmt!r}: expected one of {list(FORMATS)}")
    tables = list(TABLES) if table == "all" else [table]
    try:
        for path in export_paths(db, fmt, tables, out_path).values():
            _check_output(path, "--out", force)
        written = export(db, fmt, tables, out_path, episode_json=episode_json, force=force)  # type: ignore[arg-type]
    except (StoreError, ExportError) as e:
        _fail(str(e))
        raise
    for t, (path, n) in written.items():
        out.print(f"{t}: {n} rows -> {path}", soft_wrap=True)


@app.command("import")
def import_cmd(
    fmt: Annotated[str, typer.Argument(help="transcript, dealornodeal or sotopia-episodes.", metavar="FORMAT")],
    inputs: Annotated[list[Path], typer.Argument(help="The files to import.", metavar="INPUT...")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write scenarios/ and episodes/ to.")],
    scenario_file: Annotated[Path | None, typer.Option(
        "--scenario", help="transcript: the scenario file the messages belong to (agents, facts, task).")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", help="Also store the episodes, scored, in this result store (for `privy report` and `view`).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files and stored episodes.")] = False,
) -> None:
    """Import dialogues no model wrote: scenario files and episodes of mode human (see README)."""
    from privy.scenarios import importers

    try:
        result = importers.import_files(fmt, inputs, scenario_file)
    except importers.ImportInputError as e:
        _fail(str(e))
        raise
    planned = importers.plan(result, out_dir)
    existing = planned.existing()
    if existing and not force:
        _fail(f"{existing[0]}: exists already ({len(existing)} of the output files do); expected a new --out "
              "folder, or --force to overwrite")
    if db is not None and planned.episodes:
        from privy.bench import StoreError
        from privy.bench.ingest import ingest

        try:
            stored = asyncio.run(ingest(db, [ep for _, ep in planned.episodes], force=force))
            planned = planned.with_episodes(stored)
        except StoreError as e:
            _fail(str(e))
    importers.write(planned, force=True)
    scenarios = len(planned.scenarios)
    out.print(f"{len(result.imported)} dialogue(s) imported, {len(result.skipped)} skipped: {scenarios} scenario(s) "
              f"in {out_dir / 'scenarios'}/, {len(planned.episodes)} episode(s) in {out_dir / 'episodes'}/"
              + (f", stored in {db}" if db is not None and planned.episodes else ""), soft_wrap=True)
    for s in result.skipped:
        out.print(f"  skipped {escape(str(s))}", soft_wrap=True)
    for note in result.notes:
        err.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
    if not result.imported:
        raise typer.Exit(1)


scenarios_app = typer.Typer(help="Scenario families: list, generate, import.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")


def _check_scenario_outputs(scenarios: list[Scenario], out_dir: Path, force: bool) -> None:
    """The files ``families.write`` would write into ``out_dir`` (SCENARIO_ID.yaml) can be written."""
    _check_folder(out_dir, "--out")
    for s in scenarios:
        _check_output(out_dir / f"{s.id}.yaml", "--out", force)


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the scenario families and their parameters."""
    from privy.scenarios import families

    table = Table(box=box.SIMPLE_HEAD)
    for col in ("family", "description", "parameters (default)"):
        table.add_column(col, overflow="fold")
    for name in families.names():
        fam = families.family(name)
        ps = ", ".join(f"{k}={f.default}" for k, f in fam.Params.model_fields.items())
        table.add_row(_safe(name), _safe(fam.description), _safe(ps))
    out.print(table)


@scenarios_app.command("generate")
def scenarios_generate(
    family_name: Annotated[str, typer.Argument(help="A family from `privy scenarios list`.", metavar="FAMILY")],
    count: Annotated[int, typer.Option(help="How many instances.")] = 10,
    seed: Annotated[int, typer.Option(help="The same seed gives the same files.")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the YAML files to.")] = Path("generated"),
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Difficulty parameter as KEY=VALUE, repeatable (see `privy scenarios list`).")] = None,
    force: ForceOpt = False,
) -> None:
    """Generate scenario files of a family; impossible parameters fail before anything is written."""
    from privy.scenarios import families

    values = _key_values(param, "--param")
    try:
        generated = families.generate(family_name, count, seed, values)
    except families.FamilyError as e:
        _fail(str(e))
        raise
    _check_scenario_outputs(generated, out_dir, force)
    paths = families.write(generated, out_dir)
    out.print(f"{len(paths)} {family_name} scenarios written to {out_dir}/", soft_wrap=True)


@scenarios_app.command("import-sotopia")
def scenarios_import_sotopia(
    file: Annotated[Path, typer.Argument(
        help="Sotopia profiles: the Redis dump (redis_json_data.json), a bundle or records, JSON.", metavar="FILE")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the YAML files to.")] = Path("imported"),
    pair_unmatched: Annotated[bool, typer.Option(
        "--pair-unmatched", help="Pair an environment without a combo with the first RelationshipProfile that "
                                 "satisfies its relationship, age, occupation and agent constraints.")] = False,
    force: ForceOpt = False,
) -> None:
    """Convert Sotopia environments and agent profiles (paired by their combos) into privy scenarios."""
    from privy.scenarios import families, sotopia

    try:
        converted = sotopia.read(file, pair_unmatched=pair_unmatched)
    except sotopia.SotopiaError as e:
        _fail(str(e))
        raise
    if converted.unknown:
        kinds = ", ".join(f"{k}: {n}" for k, n in converted.unknown.items())
        out.print(f"skipped {sum(converted.unknown.values())} records of unknown kinds: {{{escape(kinds)}}}",
                  soft_wrap=True)
    if converted.skipped:
        out.print(f"skipped {len(converted.skipped)} environment(s) without a pairing:", soft_wrap=True)
        for line in converted.skipped:
            out.print(f"  {escape(line)}", soft_wrap=True)
    if not converted.scenarios:
        _fail(f"{file}: no environment could be paired with agents; expected EnvAgentComboStorage records, or "
              "--pair-unmatched with RelationshipProfile records that fit")
    _check_scenario_outputs(converted.scenarios, out_dir, force)
    paths = families.write(converted.scenarios, out_dir)
    out.print(f"{len(paths)} scenarios written to {out_dir}/", soft_wrap=True)


if __name__ == "__main__":
    app()
