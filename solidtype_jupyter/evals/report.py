"""``report.md`` and ``report.html``: a table of every case, then each case's picture beside
its expected and actual figures. The Markdown links the pictures in ``parts/``; the HTML page
embeds them, so it can be sent or shown on its own (a notebook displays it as is)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .results import CaseResult, EvalResults

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def _n(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return " x ".join(_n(v) for v in value)
    return "—" if value is None else str(value)


def _rate(results: EvalResults) -> str:
    if results.pass_rate is None:
        return "no case finished"
    return f"{results.passed}/{results.completed} ({results.pass_rate:.0%})"


def _cost(value: float | None) -> str:
    return "—" if value is None else f"${value:.4f}"


def _status(results: EvalResults) -> str:
    if results.complete:
        return "complete"
    return (
        f"interrupted: {results.completed} of {results.total} cases finished (`--resume` continues)"
    )


def _calls(case: CaseResult) -> str:
    """Tool calls, and how many failed: the first thing to read when no solid came out."""
    return (
        f"{case.tool_calls} ({case.tool_errors} failed)"
        if case.tool_errors
        else str(case.tool_calls)
    )


def _figure_rows(case: CaseResult) -> list[tuple[str, str, str, bool]]:
    """(figure, expected, actual, ok) for the report's per-case table."""
    missed = {m.figure for m in case.misses}
    figures = case.figures or {}
    rows: list[tuple[str, str, str, bool]] = []
    for name in ("volume", "area", "bbox", "solids", "faces"):
        if name not in case.expected:
            continue
        rows.append((name, _n(case.expected[name]), _n(figures.get(name)), name not in missed))
    rebuild_missed = sorted(m for m in missed if m.startswith("rebuild"))
    if case.rebuild is not None or rebuild_missed:
        rows.append(
            (
                "rebuild",
                "same solid",
                "same solid" if not rebuild_missed else ", ".join(rebuild_missed),
                not rebuild_missed,
            )
        )
    return rows


def summary_lines(results: EvalResults) -> list[str]:
    return [
        f"- model: `{results.model}`",
        f"- suite: `{results.suite}` ({results.total} cases)",
        f"- passed: **{_rate(results)}**, {_status(results)}",
        f"- tokens: {results.input_tokens} in, {results.output_tokens} out; "
        f"cost estimate: {_cost(results.cost_usd)}",
        f"- time: {results.seconds:.1f} s with {results.jobs} job(s); started {results.started}",
    ]


def markdown(results: EvalResults) -> str:
    lines = [f"# Evaluation of `{results.model}`", "", *summary_lines(results), ""]
    lines += [
        "| case | pass | misses | tool calls | approvals | tokens in/out | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in results.cases:
        misses = "; ".join(m.message for m in case.misses)
        if case.error:
            misses = f"{case.error}; {misses}" if misses else case.error
        lines.append(
            f"| [{case.id}](#{case.id}) | {'✅' if case.passed else '❌'} | "
            f"{misses.replace('|', '/')} | {_calls(case)} | {case.approvals} | "
            f"{case.input_tokens}/{case.output_tokens} | {case.seconds:.1f} |"
        )
    for case in results.cases:
        lines += ["", f"## {case.id}", "", f"> {case.prompt}", ""]
        rows = "<br>".join(
            f"{'✅' if ok else '❌'} {name}: {want} → {got}"
            for name, want, got, ok in _figure_rows(case)
        )
        picture = f"![{case.id}]({case.picture})" if case.picture else "(no picture)"
        lines += ["| model | expected → actual |", "|---|---|", f"| {picture} | {rows} |"]
        if case.error:
            lines += ["", f"Error: {case.error}"]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
.pass { color: #176b2c; } .fail { color: #a4161a; }
.case { display: flex; gap: 1em; align-items: flex-start; margin-bottom: 1.5em; }
.case img { border: 1px solid #ddd; max-width: 360px; }
"""


def page(results: EvalResults, folder: Path | None = None) -> str:
    """The HTML report; pictures are read from ``folder`` and embedded."""
    e = html.escape
    summary = "".join(
        f"<li>{e(line[2:]).replace('`', '').replace('**', '')}</li>"
        for line in summary_lines(results)
    )
    rows = []
    for case in results.cases:
        misses = "; ".join(m.message for m in case.misses)
        if case.error:
            misses = f"{case.error}; {misses}" if misses else case.error
        css = "pass" if case.passed else "fail"
        rows.append(
            f"<tr><td><a href='#{e(case.id)}'>{e(case.id)}</a></td>"
            f"<td class='{css}'>{'pass' if case.passed else 'FAIL'}</td><td>{e(misses)}</td>"
            f"<td>{_calls(case)}</td><td>{case.approvals}</td>"
            f"<td>{case.input_tokens}/{case.output_tokens}</td><td>{case.seconds:.1f}</td></tr>"
        )
    sections = []
    for case in results.cases:
        image = "<p>(no picture)</p>"
        if case.picture and folder is not None and (folder / case.picture).exists():
            data = base64.b64encode((folder / case.picture).read_bytes()).decode("ascii")
            image = f"<img alt='{e(case.id)}' src='data:image/png;base64,{data}'>"
        figure_rows = "".join(
            f"<tr><td class='{'pass' if ok else 'fail'}'>{e(name)}</td><td>{e(want)}</td>"
            f"<td>{e(got)}</td></tr>"
            for name, want, got, ok in _figure_rows(case)
        )
        error = f"<p class='fail'>{e(case.error)}</p>" if case.error else ""
        sections.append(
            f"<h2 id='{e(case.id)}'>{e(case.id)} "
            f"<span class='{'pass' if case.passed else 'fail'}'>"
            f"{'pass' if case.passed else 'FAIL'}</span></h2><blockquote>{e(case.prompt)}"
            f"</blockquote><div class='case'>{image}<div><table><tr><th>figure</th>"
            f"<th>expected</th><th>actual</th></tr>{figure_rows}</table>{error}</div></div>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Evaluation of {e(results.model)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Evaluation of <code>{e(results.model)}</code></h1><ul>{summary}</ul>"
        "<table><tr><th>case</th><th>result</th><th>misses</th><th>tool calls</th>"
        f"<th>approvals</th><th>tokens in/out</th><th>s</th></tr>{''.join(rows)}</table>"
        f"{''.join(sections)}</body></html>\n"
    )


def write_reports(results: EvalResults, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / REPORT_MD
    md.write_text(markdown(results), encoding="utf-8")
    page_path = folder / REPORT_HTML
    page_path.write_text(page(results, folder), encoding="utf-8")
    return md, page_path
