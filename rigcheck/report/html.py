"""The report as one self-contained HTML page: inline CSS and inline SVG, no script, no link to
anything outside the file (opening it fetches nothing). Pure: a Report in, a string out."""

from __future__ import annotations

from html import escape

from rigcheck.report import svg
from rigcheck.report.model import Chart, Report, Section, Table, inr

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
main{max-width:980px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 6px;border-bottom:2px solid #3b7dd8;
padding-bottom:3px}.meta{color:#666;font-size:13px}
table{border-collapse:collapse;margin:10px 0 14px;font-size:13px}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f1f4f9}td.n{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;color:#555;font-size:12px;padding-bottom:3px}
ul.items{list-style:none;padding:0}ul.items li{padding:5px 8px;margin:4px 0;border-left:4px solid #ccc;
background:#f8f8f8;font-size:14px}li.fail,li.crash{border-color:#d8453b}li.warn{border-color:#c9a227}
li.ok{border-color:#3aa757}li.info{border-color:#3b7dd8}
.badge{display:inline-block;font-size:11px;font-weight:700;padding:0 6px;border-radius:3px;margin-right:6px;
color:#fff;background:#888}.b-fail,.b-crash{background:#d8453b}.b-warn{background:#c9a227}
.b-ok{background:#3aa757}.b-info{background:#3b7dd8}
.na{color:#777;font-style:italic}.notes{color:#555;font-size:12px}figure{margin:12px 0}
svg.chart{max-width:100%;height:auto;display:block}
details{margin:10px 0;font-size:13px}summary{cursor:pointer;color:#555}
"""


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{escape(v)}</td>' if i in t.numeric else
                         f"<td>{escape(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in t.rows)
    if t.folded:
        return (f"<details><summary>{escape(t.caption or 'table')}</summary>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>")
    cap = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def chart_svg(c: Chart) -> str:
    if c.kind == "scatter":
        fmt = inr if c.x_money else None
        return svg.scatter(c.name, c.title, c.points, x_label=c.x_label, y_label=c.y_label,
                           x_fmt=fmt, y_fmt=lambda v: f"{v:,.2f}" if v < 10 else f"{v:,.0f}")
    return svg.bars(c.name, c.title, c.bars, log=c.log, ref_label=c.ref_label)


def _section(s: Section) -> str:
    out = [f'<section id="{escape(s.id)}"><h2>{escape(s.title)}</h2>']
    if not s.available:
        out.append(f'<p class="na">Not available: {escape(s.lead)}</p></section>')
        return "".join(out)
    if s.lead:
        out.append(f"<p>{escape(s.lead)}</p>")
    if s.items:
        out.append('<ul class="items">' + "".join(
            f'<li class="{escape(st)}"><span class="badge b-{escape(st)}">{escape(st.upper())}</span>'
            f"{escape(text)}</li>" for st, text in s.items) + "</ul>")
    out.extend(f"<figure>{chart_svg(c)}</figure>" for c in s.charts)
    out.extend(_table(t) for t in s.tables)
    if s.notes:
        out.append('<p class="notes">' + "<br>".join(escape(n) for n in s.notes) + "</p>")
    out.append("</section>")
    return "".join(out)


def render(report: Report) -> str:
    machine = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in report.machine)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network, ever: the page may only use what is inside it.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="meta">Generated {escape(report.generated_at)} by rigcheck '
        f"{escape(report.rigcheck_version)}. {escape(' '.join(report.notes))}</p>",
        f"<table><tbody>{machine}</tbody></table>" if machine else "",
        *(_section(s) for s in report.sections),
        "</main></body></html>",
    ]) + "\n"
