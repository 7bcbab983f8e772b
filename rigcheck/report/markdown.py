"""The report as GitHub-flavoured Markdown, to paste into an issue or a forum post. Pure.

Charts become their figures in tables (SVG does not survive a paste); ``<details>`` keeps the
long tables folded on GitHub."""

from __future__ import annotations

from rigcheck.report.model import Report, Section, Table

_MARK = {"fail": "✗", "crash": "☠", "warn": "!", "info": "i", "ok": "✓"}


def _cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> list[str]:
    out = [f"*{t.caption}*", ""] if t.caption else []
    out.append("| " + " | ".join(_cell(c) for c in t.columns) + " |")
    out.append("|" + "|".join("---:" if i in t.numeric else "---" for i in range(len(t.columns))) + "|")
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in t.rows]
    return out + [""]


def _section(s: Section) -> list[str]:
    out = [f"## {s.title}", ""]
    if not s.available:
        return out + [f"_Not available: {s.lead}_", ""]
    if s.lead:
        out += [s.lead, ""]
    out += [f"- **{_MARK.get(st, st)} {st}**: {text}" for st, text in s.items]
    if s.items:
        out.append("")
    for i, t in enumerate(s.tables):
        folded = t.folded or (len(t.rows) > 12 and i > 0)
        body = _table(Table(t.columns, t.rows, "", t.numeric) if folded else t)   # summary says it
        if folded:
            out += ["<details><summary>" + (t.caption or "table") + "</summary>", ""] + body + ["</details>", ""]
        else:
            out += body
    for n in s.notes:
        out += [f"> {n}", ">"]
    if s.notes:
        out.pop()
    return out + [""]


def render(report: Report) -> str:
    out = [f"# {report.title}", "",
           f"Generated {report.generated_at} by rigcheck {report.rigcheck_version}. "
           + " ".join(report.notes), ""]
    if report.machine:
        out += ["| | |", "|---|---|"] + [f"| {_cell(k)} | {_cell(v)} |" for k, v in report.machine] + [""]
    for s in report.sections:
        out += _section(s)
    return "\n".join(out).rstrip() + "\n"
