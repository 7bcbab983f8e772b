"""Mutation testing for rigcheck's decision modules: does a small wrong change fail a test?

Each mutant is ONE small change to one module (a boundary moved, an operator swapped, a
condition dropped, a constant nudged, a return value lost). The module's tests run against it;
a mutant is *caught* when they fail (or time out) and *survives* when they pass. A survivor is a
behaviour no test pins: write a test for it (just inside / just past the boundary), or, when the
mutant is equivalent (cannot change behaviour), mark its line ``# pragma: no mutate``.

Usage (from the checkout root, with the test venv):

    python tools/mutate.py rigcheck/money.py --tests tests/test_money.py
    python tools/mutate.py rigcheck/recommend/rules.py --tests tests/test_recommend_exact.py -j 2
    python tools/mutate.py rigcheck/money.py --lines 40-80      # only mutants on those lines
    python tools/mutate.py rigcheck/money.py --list             # show the mutants, run nothing
    python tools/mutate.py --all                                # every module in tools/mutate.toml
    python tools/mutate.py --all --only recommend               # modules whose path contains it
    python tools/mutate.py --all --sample 20 -j 2               # 20 mutants a module: an estimate

Without ``--tests`` the test files come from tools/mutate.toml (module -> test files). Add your
module and its narrowest relevant tests there; fast tests first (pytest stops at the first
failure, so a mutant caught early costs one fast file). ``-k EXPR`` passes a pytest selection.

How it runs: the checkout (without .git, venvs and caches) is copied once per worker into a temp
folder; each mutant is written into that copy and ``pytest -x -q -p no:cacheprovider`` runs there
in a process forked from this one (pytest, hypothesis, typer, rich are imported once, rigcheck
never: the child imports the copy's mutated module), with PYTHONPATH at the copy and bytecode
writing off (a stale .pyc of the same size and second would otherwise hide a mutant). The unmutated tests run first: if they fail, nothing is reported.
Each mutant gets a timeout of 3 x the baseline run + 5 s; a timeout counts as caught.
A second unmutated run traces which lines of the module the tests execute (in this process
tree's pytest, not in subprocesses they spawn); mutants in statements never executed are
reported as survivors "never run by the tests" without running (they cannot be caught, and they
would cost a full run each). ``--run-all`` runs them anyway (for modules tested through a
subprocess).
The real checkout is never modified. Exit status: 0 when every module reaches ``--fail-under``
(default 0, i.e. report only), 1 otherwise, 2 for usage errors.

Mutation operators (AST-based, applied one at a time; the mutated module is ``ast.unparse``d, so
comments vanish in the copy but line numbers in the report are the original's):
  compare   <  <-> <=,  > <-> >=,  == <-> !=,  in <-> not in,  is <-> is not
  binop     + <-> -,  * <-> /,  // -> /,  % -> //,  ** -> *
  augassign += <-> -=,  *= <-> /=
  boolop    and <-> or; each operand of an and/or dropped (a condition deleted)
  not       `not x` -> `x`
  if        `if c:` / `elif c:` / `x if c else y` / `while c` condition -> True and -> False
  const     int n -> n + 1, float x -> x * 1.1 (0.0 -> 0.1), True <-> False
  return    `return x` -> `return None` (when x is not already None)
Skipped: docstrings, strings, annotations, `if TYPE_CHECKING`, `if __name__ == "__main__"`,
f-string parts, and lines carrying ``# pragma: no mutate``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the tomli backport (a rigcheck dependency there)
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tools" / "mutate.toml"
SKIP_COPY = {".git", ".venv", ".venv-test", "__pycache__", ".hypothesis", ".pytest_cache",
             ".ruff_cache", ".mypy_cache", "build", "dist", ".mutants"}

CMP_SWAP: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
BIN_SWAP: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
}
AUG_SWAP: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div,
                              ast.Div: ast.Mult}
SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
          ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+",
          ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
          ast.Pow: "**", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    what: str
    # lines of the innermost statement holding the change: the mutant can matter only when
    # the unmutated tests ran one of them
    span: tuple[int, int] = (0, 0)


class _Mutator(ast.NodeTransformer):
    """Walks the tree numbering every mutation point; applies the one numbered ``target``.

    With target = -1 it only lists. Every point is visited in the same order on every parse,
    so the number names the same change each time.
    """

    def __init__(self, target: int, skip_lines: set[int]) -> None:
        self.target = target
        self.skip_lines = skip_lines
        self.found: list[Mutant] = []
        self._stmts: list[ast.stmt] = []

    def visit(self, node: ast.AST) -> ast.AST:
        if not isinstance(node, ast.stmt):
            return super().visit(node)
        self._stmts.append(node)
        try:
            return super().visit(node)
        finally:
            self._stmts.pop()

    # -- bookkeeping ------------------------------------------------------------------------
    def _point(self, node: ast.AST, what: str) -> bool:
        line = getattr(node, "lineno", 0)
        if line in self.skip_lines:
            return False
        stmt = self._stmts[-1] if self._stmts else node
        span = (getattr(stmt, "lineno", line), getattr(stmt, "end_lineno", None) or line)
        self.found.append(Mutant(len(self.found), line, what, span))
        return self.found[-1].index == self.target

    # -- places we never mutate -------------------------------------------------------------
    def _visit_skipping_annotations(self, node: ast.AST) -> ast.AST:
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns"):
                continue
            if isinstance(value, list):
                setattr(node, field, [self.visit(v) if isinstance(v, ast.AST) else v
                                      for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._visit_skipping_annotations(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return node  # annotations only

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node  # docstring or bare string
        return self.generic_visit(node)

    # -- operators --------------------------------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = CMP_SWAP.get(type(op))
            if swap and self._point(node, f"{SYMBOL[type(op)]} -> {SYMBOL[swap]}"):
                node.ops[i] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = BIN_SWAP.get(type(node.op))
        if swap and not _is_string_format(node) and self._point(
                node, f"{SYMBOL[type(node.op)]} -> {SYMBOL[swap]}"):
            node.op = swap()
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        swap = AUG_SWAP.get(type(node.op))
        if swap and self._point(node, f"{SYMBOL[type(node.op)]}= -> {SYMBOL[swap]}="):
            node.op = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        name = SYMBOL[type(node.op)]
        if self._point(node, f"{name} -> {SYMBOL[other]}"):
            node.op = other()
            return node
        for i, operand in enumerate(node.values):
            seg = _short(operand)
            if self._point(operand, f"{name}: operand '{seg}' dropped"):
                rest = node.values[:i] + node.values[i + 1:]
                return rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._point(node, f"'not {_short(node.operand)}' -> "
                                                              f"'{_short(node.operand)}'"):
            return node.operand
        if isinstance(node.op, ast.USub) and self._point(node, "unary minus dropped"):
            return node.operand
        return node

    # -- conditions -------------------------------------------------------------------------
    def _condition(self, node: ast.If | ast.While | ast.IfExp, kind: str) -> None:
        cond = _short(node.test)
        for value in (True, False):
            if self._point(node.test, f"{kind} condition '{cond}' -> {value}"):
                node.test = ast.Constant(value)
                return

    def visit_If(self, node: ast.If) -> ast.AST:
        if _is_guard(node.test):
            return node
        self.generic_visit(node)
        self._condition(node, "if")
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        if not (isinstance(node.test, ast.Constant) and node.test.value is True):
            # while True -> while False would skip the loop: fine, but True -> True is not a mutant
            self._condition(node, "while")
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        self._condition(node, "ternary")
        return node

    # -- constants and returns --------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        v = node.value
        if isinstance(v, bool):
            if self._point(node, f"{v} -> {not v}"):
                return ast.Constant(not v)
        elif isinstance(v, int):
            if self._point(node, f"{v} -> {v + 1}"):
                return ast.Constant(v + 1)
        elif isinstance(v, float):
            new = v * 1.1 if v != 0 else 0.1
            if self._point(node, f"{v!r} -> {new!r}"):
                return ast.Constant(new)
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if node.value is not None and not (isinstance(node.value, ast.Constant)
                                           and node.value.value is None):
            if self._point(node, f"return {_short(node.value)} -> return None"):
                node.value = None
        return node


def _is_string_format(node: ast.BinOp) -> bool:
    return isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(
        node.left.value, str)


def _is_guard(test: ast.expr) -> bool:
    src = ast.unparse(test)
    return "TYPE_CHECKING" in src or src.replace("'", '"') == '__name__ == "__main__"'


def _short(node: ast.AST, limit: int = 50) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _skip_lines(source: str) -> set[int]:
    return {i for i, line in enumerate(source.splitlines(), 1) if "pragma: no mutate" in line}


def list_mutants(source: str) -> list[Mutant]:
    m = _Mutator(-1, _skip_lines(source))
    m.visit(ast.parse(source))
    return m.found


def mutated_source(source: str, index: int) -> str:
    tree = ast.parse(source)
    m = _Mutator(index, _skip_lines(source))
    tree = m.visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


# -- running ------------------------------------------------------------------------------------
@dataclass
class Result:
    mutant: Mutant
    caught: bool
    how: str  # "failed", "timeout", "survived"


def _copy_checkout(dest: Path) -> None:
    def ignore(_dir: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_COPY or n.endswith(".egg-info") or n.endswith(".pyc")}
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def _warm() -> None:
    """Import the test stack once in this process; every forked run starts with it loaded."""
    import importlib
    for name in ("pytest", "_pytest.python", "_pytest.terminal", "hypothesis", "typer", "rich",
                 "rich.console", "numpy"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional warm-up only
            pass


def _tracer(target: str, hit: set[int]):  # noqa: ANN202 - sys.settrace's callback shape
    def local(frame, event, _arg):  # noqa: ANN001, ANN202
        if event == "line":
            hit.add(frame.f_lineno)
        return local

    def global_(frame, event, _arg):  # noqa: ANN001, ANN202
        if frame.f_code.co_filename == target:
            hit.add(frame.f_lineno)
            return local
        return None
    return global_


def _fork_pytest(copy_root: Path, tests: list[str], k: str | None,
                 trace: str | None = None) -> int:
    """Start pytest in a forked child inside ``copy_root``; returns the child's pid.

    The parent never imports rigcheck, so the child imports the copy's (mutated) modules.
    With ``trace`` (a module path), the child records which of its lines ran, in
    ``copy_root/.mutate-lines`` (in-process only: code run in a subprocess is not seen).
    """
    args = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
    if k:
        args += ["-k", k]
    pid = os.fork()
    if pid:
        return pid
    try:  # the child
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(copy_root)
        os.environ.update(PYTHONPATH=str(copy_root), PYTHONDONTWRITEBYTECODE="1",
                          HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "mutate"))
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(copy_root))
        import pytest
        hit: set[int] = set()
        if trace:
            import threading
            fn = _tracer(str(copy_root / trace), hit)
            threading.settrace(fn)
            sys.settrace(fn)
        code = int(pytest.main(args))
        sys.settrace(None)
        if trace:
            (copy_root / ".mutate-lines").write_text(" ".join(map(str, sorted(hit))))
    except BaseException:  # noqa: BLE001 - anything escaping pytest is a failed run
        code = 3
    os._exit(code)


def _outcome(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    # 0 = passed; 5 = no tests collected (a -k that selects nothing); anything else failed
    return "passed" if code == 0 else "nothing" if code == 5 else "failed"


def _run_once(copy_root: Path, tests: list[str], k: str | None,
              trace: str | None = None) -> tuple[str, float]:
    start = time.monotonic()
    pid = _fork_pytest(copy_root, tests, k, trace)
    _, status = os.waitpid(pid, 0)
    return _outcome(status), time.monotonic() - start


def sample_evenly(mutants: list[Mutant], n: int | None) -> list[Mutant]:
    """``n`` mutants spread evenly over the module (the same ones every run), or all."""
    if not n or len(mutants) <= n:
        return mutants
    return [mutants[i * len(mutants) // n] for i in range(n)]


def run_module(module: str, tests: list[str], *, k: str | None, jobs: int,
               lines: tuple[int, int] | None, verbose: bool, run_all: bool = False,
               sample: int | None = None) -> tuple[list[Result], float] | None:
    source = (ROOT / module).read_text()
    mutants = sample_evenly([m for m in list_mutants(source)
                             if lines is None or lines[0] <= m.line <= lines[1]], sample)
    if not mutants:
        return [], 0.0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rigcheck-mutate-") as tmp:
        copies = [Path(tmp) / f"w{i}" for i in range(max(1, jobs))]
        for c in copies:
            _copy_checkout(c)
        status, base = _run_once(copies[0], tests, k)
        if status != "passed":
            print(f"{module}: the unmutated tests do not pass ({status}): "
                  f"{' '.join(tests)}", file=sys.stderr)
            return None
        timeout = 3 * base + 5
        results: list[Result] = []
        if not run_all:
            _run_once(copies[0], tests, k, trace=module)
            hit = {int(x) for x in (copies[0] / ".mutate-lines").read_text().split()}
            ran = [m for m in mutants if any(a in hit for a in range(m.span[0], m.span[1] + 1))]
            results += [Result(m, False, "not run by the tests") for m in mutants if m not in ran]
            mutants = ran
        free = list(copies)
        todo = list(reversed(mutants))
        running: dict[int, tuple[Mutant, Path, float]] = {}
        try:
            while todo or running:
                while todo and free:
                    m, where = todo.pop(), free.pop()
                    (where / module).write_text(mutated_source(source, m.index))
                    running[_fork_pytest(where, tests, k)] = (m, where, time.monotonic())
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    now = time.monotonic()
                    for cpid, (_m, _where, began) in list(running.items()):
                        if now - began > timeout:
                            with contextlib.suppress(ProcessLookupError):
                                os.killpg(cpid, signal.SIGKILL)
                    time.sleep(0.02)
                    continue
                m, where, began = running.pop(pid)
                timed_out = time.monotonic() - began > timeout
                how = "timeout" if timed_out else _outcome(status)
                how = "survived" if how == "passed" else how
                results.append(Result(m, how != "survived", how))
                (where / module).write_text(source)
                free.append(where)
                if verbose:
                    print(f"  {module}:{m.line}: {m.what}: {how}", file=sys.stderr, flush=True)
        finally:
            for cpid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(cpid, signal.SIGKILL)
    results.sort(key=lambda r: r.mutant.index)
    return results, time.monotonic() - t0


def _config() -> dict[str, list[str]]:
    with CONFIG.open("rb") as f:
        data = tomllib.load(f)
    return {mod: list(tests) for mod, tests in data["modules"].items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("modules", nargs="*", help="module files, e.g. rigcheck/money.py")
    p.add_argument("--tests", nargs="+", help="test files for the module(s) (default: mutate.toml)")
    p.add_argument("--all", action="store_true", help="every module listed in tools/mutate.toml")
    p.add_argument("--only", help="with --all: modules whose path contains this text")
    p.add_argument("-k", help="pytest -k selection")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers (default 1)")
    p.add_argument("--lines", help="only mutants on lines A-B")
    p.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    p.add_argument("--fail-under", type=float, default=0.0, help="exit 1 below this %% caught")
    p.add_argument("--sample", type=int, metavar="N",
                   help="at most N mutants per module, spread evenly (a quick estimate)")
    p.add_argument("--run-all", action="store_true",
                   help="also run mutants on lines the tests never execute in-process")
    p.add_argument("-v", "--verbose", action="store_true", help="print each mutant's outcome")
    a = p.parse_args(argv)

    config = _config() if CONFIG.exists() else {}
    modules = list(a.modules)
    if a.all:
        modules += [m for m in config if not a.only or a.only in m]
    if not modules:
        p.error("name a module (rigcheck/money.py) or --all")
    lines = None
    if a.lines:
        try:
            lo, hi = (int(x) for x in a.lines.split("-"))
        except ValueError:
            p.error(f"--lines wants A-B, got {a.lines!r}")
        lines = (lo, hi)
    plan: list[tuple[str, list[str]]] = []
    for mod in modules:
        mod = str(Path(mod).resolve().relative_to(ROOT)) if Path(mod).is_absolute() else mod
        if not (ROOT / mod).is_file():
            p.error(f"no such module: {mod}")
        tests = a.tests or config.get(mod)
        if not tests:
            p.error(f"no tests for {mod}: pass --tests or add it to {CONFIG.relative_to(ROOT)}")
        plan.append((mod, tests))

    if a.list:
        for mod, _ in plan:
            for m in list_mutants((ROOT / mod).read_text()):
                if lines is None or lines[0] <= m.line <= lines[1]:
                    print(f"{mod}:{m.line}: #{m.index} {m.what}")
        return 0

    # SIGTERM (timeout, kill) unwinds like Ctrl-C: the running children (each in its own
    # session) are killed and the temp copies removed by the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _warm()
    rows: list[tuple[str, int, int, float]] = []
    survivors: list[str] = []
    broken: list[str] = []
    for mod, tests in plan:
        print(f"mutating {mod} ({len(list_mutants((ROOT / mod).read_text()))} mutants) "
              f"against {' '.join(tests)}", file=sys.stderr, flush=True)
        out = run_module(mod, tests, k=a.k, jobs=a.jobs, lines=lines, verbose=a.verbose,
                         run_all=a.run_all, sample=a.sample)
        if out is None:
            broken.append(mod)
            continue
        results, took = out
        caught = sum(r.caught for r in results)
        rows.append((mod, caught, len(results), took))
        survivors += [f"{mod}:{r.mutant.line}: {r.mutant.what}"
                      + (" (line never run by the tests)" if r.how.startswith("not run") else "")
                      for r in sorted(results, key=lambda r: (r.mutant.line, r.mutant.index))
                      if not r.caught]

    width = max([len(r[0]) for r in rows] + [6])
    print(f"{'module':<{width}}  caught  tried      %    time")
    for mod, caught, tried, took in rows:
        pct = 100 * caught / tried if tried else 100.0
        print(f"{mod:<{width}}  {caught:>6}  {tried:>5}  {pct:5.1f}  {took:5.0f} s")
    tc, tt = sum(r[1] for r in rows), sum(r[2] for r in rows)
    if len(rows) > 1:
        print(f"{'total':<{width}}  {tc:>6}  {tt:>5}  {100 * tc / tt if tt else 100:5.1f}")
    if survivors:
        print("\nsurvivors (no test fails when this change is made):")
        for s in survivors:
            print(f"  {s}")
    if broken:
        print(f"\nnot run, the unmutated tests fail: {', '.join(broken)}")
    below = [r for r in rows if r[2] and 100 * r[1] / r[2] < a.fail_under]
    return 1 if broken or below else 0


if __name__ == "__main__":
    sys.exit(main())
