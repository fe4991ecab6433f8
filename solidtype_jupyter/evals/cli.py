"""``solidtype-jupyter eval SUITE``: score a model at building the parts of a suite.

Exit status: 0 when every case passed, 1 when one failed, 2 for a bad suite or option, 130
when interrupted (Ctrl-C: the finished cases are kept, ``--resume`` continues).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .results import CaseResult


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "eval",
        help="score a model at building parts from a sentence, by geometry",
        description="Run every case of SUITE (a JSON Lines file, or `builtin`) through the "
        "chat's loop and tools on a fresh document, score the final model against the "
        "case's expected volume, area and bounding box, rebuild its exported script, and "
        "write DIR/results.json, DIR/report.md and DIR/report.html.",
    )
    parser.add_argument("suite", nargs="?", help="a JSON Lines suite, or `builtin`")
    parser.add_argument(
        "--model",
        help="provider:model (e.g. anthropic:claude-sonnet), or `replay` for each case's "
        "recorded turns (default: c.SolidTypeApp.model / $SOLIDTYPE_MODEL)",
    )
    parser.add_argument("--out", default="eval-results", help="results folder (eval-results)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="cases run at once (1 to 64, default 1)"
    )
    parser.add_argument(
        "--max-turns",
        type=int,
        default=20,
        help="rounds of tool calls a case may take (default 20, as the chat)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=600.0,
        help="seconds one case may take before it is stopped and failed (default 600)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out, skipping its finished cases (cases stopped by a "
        "rate limit, an overload or a lost connection run again)",
    )
    parser.add_argument(
        "--case", action="append", metavar="ID", help="run only this case (repeatable)"
    )
    parser.add_argument(
        "--price",
        metavar="IN,OUT",
        help="dollars per million input and output tokens, for the cost estimate "
        "(default: the list price of known models)",
    )
    parser.add_argument(
        "--no-pictures", action="store_true", help="do not draw the models (faster)"
    )
    parser.add_argument(
        "--print-suite", metavar="SUITE", help="write SUITE (e.g. builtin) to stdout and exit"
    )
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from .pricing import parse_price
    from .runner import MAX_JOBS, REPLAY, RunOptions, eval_model, kept_on_resume, run_suite
    from .suite import load_suite, suite_text

    if args.print_suite:
        load_suite(args.print_suite)  # refuse to print a suite that does not load
        sys.stdout.write(suite_text(args.print_suite))
        return 0
    if not args.suite:
        raise ValueError("eval needs a SUITE (a JSON Lines file, or `builtin`)")
    if not 1 <= args.jobs <= MAX_JOBS:
        raise ValueError(f"--jobs must be from 1 to {MAX_JOBS}, got {args.jobs}")
    suite = load_suite(args.suite).select(args.case)
    options = RunOptions(
        max_turns=args.max_turns, time_limit=args.time_limit, pictures=not args.no_pictures
    )
    price = parse_price(args.price) if args.price else None
    setting = args.model if args.model is not None else _model_setting()
    from ..llm import ModelNotConfigured

    try:
        model = eval_model(setting, os.environ, price)
    except ModelNotConfigured as exc:
        print(
            f"solidtype-jupyter eval: {exc} Without a key, `--model replay` checks the suite "
            "with each case's recorded solution.",
            file=sys.stderr,
        )
        return 2
    if model.label != REPLAY:
        print(f"Evaluating {model.label} on {len(suite.cases)} cases.", file=sys.stderr)
    out_dir = Path(args.out)
    bar = ProgressBar(len(suite.cases), sys.stderr)
    if args.resume:
        from .results import read_results

        previous = read_results(out_dir)
        kept = kept_on_resume(previous, suite) if previous else []
        bar.done, bar.passed = len(kept), sum(c.passed for c in kept)
    try:
        results = asyncio.run(
            run_suite(
                suite,
                model,
                out_dir,
                jobs=args.jobs,
                options=options,
                resume=args.resume,
                progress=bar.update,
            )
        )
    except KeyboardInterrupt:
        bar.close()
        print(
            f"\nInterrupted: the finished cases are in {out_dir / 'results.json'}; "
            f"`--resume` continues.",
            file=sys.stderr,
        )
        return 130
    bar.close()
    rate = f"{results.pass_rate:.0%}" if results.pass_rate is not None else "-"
    print(
        f"{results.passed}/{results.completed} passed ({rate}); "
        f"report: {out_dir / 'report.md'} and {out_dir / 'report.html'}"
    )
    return 0 if results.passed == results.completed == results.total else 1


def _model_setting() -> str:
    from ..cli import configured_app

    return str(configured_app().model)


class ProgressBar:
    """One line redrawn in place on a terminal; a line per finished case otherwise (logs)."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total = total
        self.stream = stream
        self.width = width
        self.done = 0
        self.passed = 0
        self.running: list[str] = []
        self.tty = stream.isatty()
        # One column short of the terminal: a line that fills it wraps, and "\r" then
        # returns to the wrapped part, leaving a new line per redraw.
        self.columns = max(shutil.get_terminal_size((100, 24)).columns - 1, 20)
        self.started = time.monotonic()

    def update(self, case_id: str, result: CaseResult | None) -> None:
        if result is None:
            self.running.append(case_id)
        else:
            if case_id in self.running:
                self.running.remove(case_id)
            self.done += 1
            self.passed += result.passed
            if not self.tty:
                verdict = "pass" if result.passed else "FAIL"
                why = "; ".join(filter(None, [result.error, *(m.message for m in result.misses)]))
                self.stream.write(
                    f"[{self.done}/{self.total}] {case_id}: {verdict} ({result.seconds:.1f} s)"
                    f"{' ' + why if why else ''}\n"
                )
                self.stream.flush()
        if self.tty:
            filled = round(self.width * self.done / max(self.total, 1))
            now = ", ".join(self.running[:3])
            line = (
                f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"passed {self.passed}  {time.monotonic() - self.started:.0f} s  {now}"
            )
            self.stream.write("\r" + line[: self.columns].ljust(self.columns))
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
