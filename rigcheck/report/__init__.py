"""``rigcheck report``: one page combining what rigcheck knows about a machine, to share.

- :mod:`rigcheck.report.model`: pure; builds a :class:`Report` (sections of tables, charts and
  notes) from the documented JSON outputs of probe, doctor, bench, estimate and recommend.
- :mod:`rigcheck.report.svg`: pure; the inline SVG charts.
- :mod:`rigcheck.report.html` / :mod:`rigcheck.report.markdown`: pure renderers.
- :mod:`rigcheck.report.collect`: the only part that touches the world; runs those commands
  (``--json``) and reads the latest saved bench run.

Consuming the commands' own JSON keeps one owner per concept: the report shows exactly what the
commands print, and survives refactors of their internals.
"""
