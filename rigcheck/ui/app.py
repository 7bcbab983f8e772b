"""The ``rigcheck`` command tree."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from rigcheck import __version__

app = typer.Typer(
    name="rigcheck",
    help=(
        "Plan, diagnose and benchmark deep-learning machines.\n\n"
        "recommend: what to buy for a budget. doctor: is this machine set up right. "
        "bench: what does it really train."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich help imports rich.markdown and markdown_it (~100 ms), which
    # would break the 0.3 s start-up goal of `rigcheck --help` (benchmarks/startup.py).
    rich_markup_mode=None,
)

# Each module registers its own commands; the modules import their heavy dependencies lazily.
COMMAND_MODULES = (
    "recommend_cmd",
    "catalog_cmd",
    "estimate_cmd",
    "probe_cmd",
    "doctor_cmd",
    "bench_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rigcheck {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Plan, diagnose and benchmark deep-learning machines."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"rigcheck.ui.{_name}").register(app)


def main() -> None:
    app()
