"""The ``rigcheck`` command tree and the conventions every command shares.

``RigcheckGroup`` applies them to every command, whoever wrote it:
``-h``/``--help``; ``-q/--quiet`` and ``-v/--verbose`` (added where a command has none;
see ``rigcheck.ui.common``); the full first paragraph of each command's description in
``rigcheck --help`` (click would cut it at 45 characters with "..."); and, under ``--json``,
usage errors as a JSON object on stdout with the usual exit code 2.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup
from typer.models import OptionInfo

from rigcheck import __version__
from rigcheck.ui import common

QUIET_HELP = "Print only the result: no progress, notes or warnings."
VERBOSE_HELP = "Say more: sources, reasons, the figures behind a result."


def _option_names(fn: Callable[..., Any], hints: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for meta in (m for h in hints.values() for m in getattr(h, "__metadata__", ())):
        if isinstance(meta, OptionInfo):
            names.update(d for d in (meta.default, *(meta.param_decls or ())) if isinstance(d, str))
    return names


def with_conventions(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with ``-q/--quiet`` and ``-v/--verbose`` added where it has none. They set
    ``common.STATE`` (read through ``common.quiet()`` / ``common.verbose()``)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    names = _option_names(fn, hints)
    sig = inspect.signature(fn)
    params = [p.replace(annotation=hints.get(n, p.annotation)) for n, p in sig.parameters.items()]
    extra: dict[str, Any] = {}
    if not names & {"-q", "--quiet"}:
        extra["rigcheck_quiet"] = Annotated[bool, typer.Option("-q", "--quiet", help=QUIET_HELP)]
    if not names & {"-v", "--verbose"}:
        extra["rigcheck_verbose"] = Annotated[
            int, typer.Option("-v", "--verbose", count=True, help=VERBOSE_HELP)]
    if not extra:
        return fn
    defaults = {"rigcheck_quiet": False, "rigcheck_verbose": 0}
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=defaults[n],
                                 annotation=a) for n, a in extra.items()]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.pop("rigcheck_quiet", False):
            common.STATE.quiet = True
        common.STATE.verbose = max(common.STATE.verbose, kwargs.pop("rigcheck_verbose", 0) or 0)
        return fn(*args, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**{n: p.annotation for n, p in zip(sig.parameters, params)}, **extra}
    return wrapper


def _apply_conventions(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None:
            doc = info.help or inspect.getdoc(info.callback) or ""
            info.callback = with_conventions(info.callback)
            if doc and not info.short_help:
                # The whole first paragraph in `rigcheck --help` (click cuts at 45 characters).
                info.short_help = " ".join(doc.split("\n\n")[0].split())
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _apply_conventions(group.typer_instance)


class RigcheckGroup(TyperGroup):
    def main(self, args: Any = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        common.reset_state(argv)
        if not common.STATE.json:
            return super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=standalone_mode, **extra)
        try:
            code = super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        except ClickException as exc:  # a usage error: bad option, missing value, unknown command
            common.print_json({"schema": common.ERROR_SCHEMA, "error": exc.format_message(),
                               "exit_code": exc.exit_code})
            exc.show()
            code = exc.exit_code
        except typer.Abort:
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="rigcheck",
    cls=RigcheckGroup,
    help=(
        "Plan, diagnose and benchmark deep-learning machines.\n\n"
        "recommend: what to buy for a budget. doctor: is this machine set up right. "
        "bench: what does it really train. report: all of it in one HTML page to share."
    ),
    no_args_is_help=True,
    # typer's --install-completion / --show-completion (bash, zsh, fish, PowerShell).
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
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
    "recipes_cmd",
    "probe_cmd",
    "doctor_cmd",
    "bench_cmd",
    "report_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rigcheck {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("-V", "--version", callback=_version, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """Plan, diagnose and benchmark deep-learning machines."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"rigcheck.ui.{_name}").register(app)
_apply_conventions(app)


def main() -> None:
    app()
