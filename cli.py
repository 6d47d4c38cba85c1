"""privy's command line: parse, call one library function, print (a thin layer over privy's Python API)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
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
from privy.bench.compare import episode_path
from privy.bench.evaluate import evaluate_files
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
    validate_files,
)
from privy.simulator.backends.base import aclose
from privy.simulator.backends.spec import BackendsConfig, BackendSpec, build, load_backends_config

T = TypeVar("T")

app = typer.Typer(
    help="Simulate conversations between LLM agents that hold private information.",
    no_args_is_help=True,
    add_completion=False,
)
# Model text is printed as it is: no emoji codes, no highlighting, no hard wrapping.
out = Console(emoji=False, highlight=False)
err = Console(stderr=True, emoji=False, highlight=False)

ModeOpt = Annotated[Mode, typer.Option("--mode", "-m", help="Who writes and what they see.")]


class _Notices(logging.Handler):
    """privy's log records of level INFO and up, as plain lines on stderr (e.g. "loading model PATH (N MB)...")."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(self.format(record), markup=False, soft_wrap=True)


@app.callback()
def _notices() -> None:
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
    "backend": Annotated[str, typer.Option("--backend", "-b", help="Backend name (see `privy backends`).")],
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


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as e:
        for p in e.problems:
            err.print(escape(str(p)), soft_wrap=True)
        raise typer.Exit(1) from None


def _key_values(items: list[str] | None, flag: str) -> dict[str, Any]:
    """Repeated ``KEY=VALUE`` options; each value is read as YAML (numbers, booleans, lists)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"{flag} {item!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def _backends(args: BackendArgs) -> tuple[backends.Backend, dict[str, backends.Backend]]:
    """The default backend and the per-agent ones, from the command line or a backends file."""
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
    out.print(f"[dim]{m.turn:>3}[/dim] [bold]{escape(names[m.sender])}[/bold] [dim]→ {escape(to)}[/dim]")
    out.print("    " + escape(m.content).replace("\n", "\n    "), soft_wrap=True)


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders.")]) -> None:
    """Check scenario files; print every problem as FILE:LINE: FIELD: what was expected."""
    problems = validate_files(list(paths))
    for p in problems:
        err.print(escape(str(p)), soft_wrap=True)
    if problems:
        files = len({p.file for p in problems})
        err.print(f"[red]{len(problems)} problem(s) in {files} file(s)[/red]")
        raise typer.Exit(1)
    out.print("[green]all valid[/green]")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (generated from the pydantic models)."""
    out.print_json(json.dumps(Scenario.model_json_schema()))


@app.command()
@backend_options
def run(
    scenario_file: Annotated[Path, typer.Argument(help="A scenario YAML file.", metavar="SCENARIO")],
    mode: ModeOpt = Mode.AGENTS,
    seed: Annotated[int, typer.Option(help="Seeds the environment and every model call.")] = 0,
    out_file: Annotated[Path | None, typer.Option("--out", help="Episode JSON to write.")] = None,
    backend: BackendArgs = BackendArgs(),
) -> None:
    """Run one scenario in one mode, print the conversation and write the episode log."""
    scenario = _load(scenario_file)
    b, per_agent = _backends(backend)
    unknown = sorted(set(per_agent) - set(scenario.agent_ids))
    if unknown:
        _fail(f"{backend.backends_file}: agents {unknown} are not in {scenario_file} ({scenario.agent_ids})")
    names = {a.id: a.name for a in scenario.agents}
    out.rule(f"{escape(scenario.title)} · {mode.value} · {b.name}")
    episode = asyncio.run(_closing(run_episode(
        scenario, mode, b, seed, agent_backends=per_agent or None, scenario_path=str(scenario_file),
        on_message=lambda m: _print_message(m, names),
    ), b, *per_agent.values()))
    path = episode.save(out_file or episode_path("runs", scenario.id, mode, seed))
    o = episode.outcome
    out.rule()
    out.print(f"ended by [bold]{o.ended_by}[/bold] after {o.turns} turns; "
              f"decision: {escape(str(o.decision))}; success: {o.success}")
    errors = [c.error for c in episode.calls if c.error]
    if errors:
        err.print(f"[yellow]{len(errors)} model call(s) failed; first: {escape(errors[0])}[/yellow]")
    out.print(f"episode written to {path}", soft_wrap=True)


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
    out.rule(f"{escape(s.title)} · {ep.mode.value} · seed {ep.seed} · {escape(str(ep.backend.get('backend')))}")
    shown = [as_agent] if as_agent else [a.id for a in s.agents]
    for a in shown:
        spec = s.agent(a)
        out.print(f"[bold]{escape(spec.name)}[/bold] ({a}) goal: {escape(spec.goal)}")
        for f in s.facts_of(a):
            out.print(f"   [dim]{f.id}[/dim] {escape(f.text)}")
    out.rule("messages" + (f" delivered to {as_agent}" if as_agent else ""))
    for m in ep.messages:
        if turn is not None and m.turn >= turn:
            break
        if as_agent is None or m.visible_to(as_agent):
            _print_message(m, names)
    if turn is not None:
        calls = [c for c in ep.calls if c.turn == turn and (as_agent is None or c.speaker == as_agent)]
        for c in calls:
            out.rule(f"model call {c.index} at turn {turn} for {c.speaker or 'the script'}: exact input")
            for cm in c.input:
                out.print(f"[bold]{cm.role}[/bold]: {escape(cm.content)}", soft_wrap=True)
            out.print(f"[bold]output[/bold]: {escape(str(c.output))}", soft_wrap=True)
            if c.error:
                out.print(f"[red]error[/red]: {escape(c.error)}")
    o = ep.outcome
    out.rule()
    out.print(f"ended by {o.ended_by} after {o.turns} turns; decision: {escape(str(o.decision))}; "
              f"success: {o.success}")


@app.command()
@backend_options
def compare(
    scenario_files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.", metavar="SCENARIO...")],
    modes: Annotated[str, typer.Option(help="Comma-separated modes.")] = "agents,mindreaders,omniscient,script",
    seeds: Annotated[int, typer.Option(help="Seeds per scenario and mode (0..N-1).")] = 1,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where episodes are written.")] = Path("runs"),
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Episodes in flight at once.")] = 1,
    backend: BackendArgs = BackendArgs(),
) -> None:
    """Run scenarios in several modes on one backend and tabulate the outcomes."""
    from privy.bench import compare as compare_modes

    try:
        mode_list = [Mode(m.strip()) for m in modes.split(",") if m.strip()]
    except ValueError as e:
        _fail(f"--modes: {e}; expected some of {[m.value for m in Mode]}")
        raise
    if backend.backend == "replay" and backend.backends_file is None:
        _fail("compare runs many episodes; replay one episode with `privy run --backend replay`")
    scenarios = [(p, _load(p)) for p in scenario_files]
    b, per_agent = _backends(backend)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=out) as bar:
        task = bar.add_task("episodes", total=len(scenarios) * len(mode_list) * seeds)

        def tick(p: Any, cell: Any, error: str | None) -> None:
            bar.update(task, advance=1, description=f"{cell.scenario_id} · {cell.mode.value} · seed {cell.seed}")

        results: list[Episode] = compare_modes(scenarios, mode_list, range(seeds), b, out_dir,
                                               agent_backends=per_agent, jobs=jobs, on_progress=tick)
    for scenario_id in dict.fromkeys(ep.scenario.id for ep in results):
        table = Table(title=f"{scenario_id} · backend {b.name}", title_justify="left",
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
        err.print(f"[red]error:[/red] {escape(problem)}", soft_wrap=True)
    if as_json:
        typer.echo(result.model_dump_json(include={"episodes", "mean_by_mode"}, indent=2))
    else:
        for r in result.episodes:
            table = Table(title=f"{r.file} · {r.scenario} · {r.mode} · seed {r.seed}",
                          title_justify="left", box=box.SIMPLE_HEAD)
            for col in ("evaluator", "value", "metrics", "findings"):
                table.add_column(col, overflow="fold")
            for name, score in r.scores.items():
                metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in score.metrics.items())
                value = _fmt(score.value) if not score.error else f"[red]error[/red]: {escape(score.error)}"
                table.add_row(name, value, escape(metrics), str(len(score.findings)))
            out.print(table)
            if show_findings:
                for name, score in r.scores.items():
                    for f in score.findings:
                        where = f"message {f.message_id}" if f.message_id is not None else "episode"
                        fact = f" · {f.fact_id}" if f.fact_id else ""
                        out.print(f"  [bold]{name}[/bold] {f.kind} · {where} · {f.agent}{fact}: "
                                  f"{escape(f.reason)}", soft_wrap=True)
        if len(result.episodes) > 1:
            table = Table(title="mean value per mode", title_justify="left", box=box.SIMPLE_HEAD)
            table.add_column("evaluator")
            modes = sorted(result.mean_by_mode)
            for m in modes:
                table.add_column(m)
            for name in chosen:
                table.add_row(name, *(_fmt(result.mean_by_mode[m].get(name)) for m in modes))
            out.print(table)
    unscored = result.unscored()
    for name, why in unscored.items():
        err.print(f"[red]error:[/red] {name} could not score any of the {len(result.episodes)} episode(s): "
                  f"{escape(why)}", soft_wrap=True)
    if result.unreadable or unscored:
        raise typer.Exit(1)


@app.command("backends")
def list_backends() -> None:
    """List the backends privy knows, and why any cannot be used here."""
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("backend", "usable", "from", "detail"):
        table.add_column(col)
    for info in backends.describe():
        table.add_row(info.name, "yes" if info.available else "[red]no[/red]", info.origin, escape(info.detail))
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
) -> None:
    """Run a suite's grid (scenarios x modes x backends x seeds); rerun to resume."""
    from privy.bench import Grid, ResultStore, StoreError, SuiteError, load_suite, run_bench
    from privy.bench.execute import ProgressLine
    from privy.bench.ray_executor import RayConnectError
    from privy.bench.run import EXECUTORS

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
        suite, base = load_suite(suite_file)
        grid = Grid(suite, base)  # streamed: only the cells' keys are kept, and the episodes in flight
        planned = grid.keys()  # loads every scenario once: a bad one fails here, before anything runs
        store = ResultStore(out_db)
    except (SuiteError, StoreError, backends.BackendError) as e:
        _fail(str(e))
        raise
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
    done_before = len(store.done_keys() & set(planned))
    # on a terminal a live bar; in a log or a pipe, where a bar shows nothing, a line every 5 s
    line = None if err.is_terminal else ProgressLine(
        "bench", len(planned), lambda t: err.print(t, markup=False, soft_wrap=True), start=done_before)
    with Progress(*columns, console=err, disable=line is not None) as bar:
        task = bar.add_task(f"{suite.name}", total=len(planned), completed=done_before, rate="")

        def tick(p: Any, cell: Any, error: str | None) -> None:
            if error:
                err.print(f"[yellow]failed[/yellow] {escape(cell.key)}: {escape(error)}", soft_wrap=True)
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
) -> None:
    """Means with 95% bootstrap CIs per mode, paired gaps between modes, cost, Simulation Card."""
    from privy.bench import StoreError, build_report, print_report, to_html, to_markdown
    from privy.bench.report import PLOTS_MISSING, plots_available

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
) -> None:
    """Write a self-contained HTML transcript viewer: modes side by side, facts, failures, per-agent view."""
    from privy.bench import StoreError, ViewError, from_episodes, from_store
    from privy.bench.execute import ProgressLine
    from privy.bench.view_html import serve, write

    stores = [p for p in inputs if p.suffix in (".db", ".sqlite", ".sqlite3")]
    if stores and len(inputs) > 1:
        _fail(f"{stores[0]}: give one result store, or episode files; not both")
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

    try:
        data = from_store(stores[0], tick) if stores else from_episodes(list(files), tick)
    except (StoreError, EpisodeError, ViewError) as e:
        _fail(str(e))
        raise
    target = out_file or (stores[0].with_suffix(".view.html") if stores else Path("view.html"))
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
) -> None:
    """Write the store's tables as CSV, JSON Lines or Parquet, for pandas."""
    from privy.bench import ExportError, StoreError, export
    from privy.bench.export import FORMATS, TABLES

    if fmt not in FORMATS:
        _fail(f"--format {fmt!r}: expected one of {list(FORMATS)}")
    tables = list(TABLES) if table == "all" else [table]
    try:
        written = export(db, fmt, tables, out_path, episode_json=episode_json)  # type: ignore[arg-type]
    except (StoreError, ExportError) as e:
        _fail(str(e))
        raise
    for t, (path, n) in written.items():
        out.print(f"{t}: {n} rows -> {path}", soft_wrap=True)


scenarios_app = typer.Typer(help="Scenario families: list, generate, import.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")


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
        table.add_row(name, fam.description, ps)
    out.print(table)


@scenarios_app.command("generate")
def scenarios_generate(
    family_name: Annotated[str, typer.Argument(help="A family from `privy scenarios list`.", metavar="FAMILY")],
    count: Annotated[int, typer.Option(help="How many instances.")] = 10,
    seed: Annotated[int, typer.Option(help="The same seed gives the same files.")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the YAML files to.")] = Path("generated"),
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Difficulty parameter as KEY=VALUE, repeatable (see `privy scenarios list`).")] = None,
) -> None:
    """Generate scenario files of a family; impossible parameters fail before anything is written."""
    from privy.scenarios import families

    values = _key_values(param, "--param")
    try:
        generated = families.generate(family_name, count, seed, values)
    except families.FamilyError as e:
        _fail(str(e))
        raise
    paths = families.write(generated, out_dir)
    out.print(f"{len(paths)} {family_name} scenarios written to {out_dir}/", soft_wrap=True)


@scenarios_app.command("import-sotopia")
def scenarios_import_sotopia(
    file: Annotated[Path, typer.Argument(help="Sotopia environment and agent profiles, JSON.", metavar="FILE")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the YAML files to.")] = Path("imported"),
) -> None:
    """Convert Sotopia episodes (environment + agent profiles) into privy scenarios."""
    from privy.scenarios import families, sotopia

    try:
        converted = sotopia.import_file(file)
    except sotopia.SotopiaError as e:
        _fail(str(e))
        raise
    paths = families.write(converted, out_dir)
    out.print(f"{len(paths)} scenarios written to {out_dir}/", soft_wrap=True)


if __name__ == "__main__":
    app()
