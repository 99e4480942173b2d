"""The `hloenv` command line.

    hloenv check PATH...      parse, verify, print, re-parse (ours and XLA's parser); one line per file
                              (a folder: every HLO file under it)
    hloenv demo [FILE]        the main job: checks, then optimize with an agent and print the verified speedup
    (see `hloenv --help` for eval, compare, optimize, harvest, bench)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hloenv.altgraph import HloError, HloParseError, Module, load_hlo, parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes
from hloenv.altgraph.selected import selected_copy
from hloenv.optimize import VERDICTS

#: states the demo's search expands when `--budget` is not given
DEMO_SEARCH_BUDGET = 20


def default_module_path() -> Path:
    """The bundled default module (an MLP training step generated from our own JAX code)."""
    from hloenv.data.generate import DATA_DIR, DEFAULT_MODULE
    return DATA_DIR / DEFAULT_MODULE


def check_file(path: str | Path) -> Module:
    """Parse, verify, print, re-parse with our parser (fixpoint) and with XLA's parser.

    Raises:
        HloError: the file is not valid HLO, or its printed text is not a fixpoint.
        ValueError: XLA's parser rejects our printed text.
    """
    module = load_hlo(path)
    module.verify()
    text = module.to_text()
    again = parse_hlo(text, f"{path} (printed)")
    if again.to_text() != text:
        raise HloError("print -> parse -> print is not a fixpoint")
    if again.fingerprint() != module.fingerprint():
        raise HloError("fingerprint changed after print -> parse")
    nodes = alternatives_nodes(module)
    if nodes:  # (a saved alternative graph: XLA has no alternatives opcode, so it reads the program
        # with every original kept; it rejected the graph's text with "Unknown opcode")
        xla_parse(selected_copy(module, [0] * len(nodes), nodes=nodes).to_text())
    else:
        xla_parse(text)
    return module


def xla_parse(text: str) -> None:
    """Parse with XLA's own parser (jaxlib); raises ValueError with XLA's first error line."""
    from jaxlib import _hlo
    try:
        _hlo.hlo_module_from_text(text)
    except Exception as err:  # JaxRuntimeError
        lines = [line for line in str(err).splitlines() if line.strip()]
        raise ValueError("XLA's parser rejects the printed text: " + " ".join(lines[:3])[:400]) from None


def hlo_files_of(paths: Sequence[str], skipped: list[str] | None = None) -> list[str]:
    """`paths` with each folder replaced by the HLO files under it (by ending, sorted); a folder
    with none stays, so checking it fails with a reason. A folder's `.txt` file that is not HLO
    text (a README) is left out, and added to `skipped`."""
    from hloenv.dataset.reader import is_hlo_file, is_plain_text_but_not_hlo
    out: list[str] = []
    for path in paths:
        root = Path(path)
        if not root.is_dir():
            out.append(path)
            continue
        found = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if not (p.is_file() and is_hlo_file(rel)):
                continue
            head = _head(p)
            if head is not None and is_plain_text_but_not_hlo(rel, head):
                if skipped is not None:
                    skipped.append(str(p))
                continue
            found.append(str(p))
        out.extend(found or [path])
    return out


def _head(path: Path) -> bytes | None:
    """The first 4 kB of a file; None if it cannot be read (checking it then says why)."""
    try:
        with open(path, "rb") as f:
            return f.read(4096)
    except OSError:
        return None


def _cmd_check(args: argparse.Namespace) -> int:
    from hloenv.dataset.archive import is_archive
    from hloenv.dataset.reader import HLO_SUFFIXES
    failed = 0
    skipped: list[str] = []
    files = hlo_files_of(args.files, skipped)
    for path in skipped:
        print(f"skip {path}: a .txt file that is not HLO text (it does not start with 'HloModule')")
    for path in files:
        t0 = time.perf_counter()
        if Path(path).is_dir():
            failed += 1
            print(f"FAIL {path}: a folder with no HLO files in it (by ending: {', '.join(HLO_SUFFIXES)})")
            continue
        if is_archive(path) and Path(path).is_file():  # (was "not UTF-8 text")
            failed += 1
            print(f"FAIL {path}: an archive; check reads HLO files and folders (unpack it, or give it to "
                  "hloenv bench or hloenv.dataset.load, which read archives)")
            continue
        try:
            module = check_file(path)
        except (HloError, ValueError, OSError) as err:
            failed += 1
            print(f"FAIL {path}: {_reason(err)}")
            continue
        ms = (time.perf_counter() - t0) * 1e3
        alternatives = len(alternatives_nodes(module))
        graph = f", an alternative graph: {alternatives} alternatives nodes (XLA read it with the originals kept)" \
            if alternatives else ""
        print(f"ok   {path}: {len(module.computations)} computations, {module.instruction_count} "
              f"instructions, fingerprint {module.fingerprint()[:12]}{graph} ({ms:.0f} ms)")
    if len(files) > 1:
        print(f"{len(files) - failed} ok, {failed} failed")
    return 1 if failed else 0


def _reason(err: Exception) -> str:
    """One line saying what is wrong and where (without repeating the file name)."""
    if isinstance(err, HloParseError):
        where = f"line {err.line}, col {err.column}: " if err.line else ""
        return where + err.reason.splitlines()[0]
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if isinstance(err, OSError) else text or type(err).__name__


def _cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else default_module_path()
    options: dict = {}
    if not args.no_optimize:  # the agent is checked before the checks' XLA work, not after it
        from hloenv.agents.base import cli_agent_options
        budget = args.budget if args.budget is not None or args.agent != "search" else DEMO_SEARCH_BUDGET
        try:
            options = cli_agent_options(args.agent, None, budget)
        except (ValueError, TypeError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    try:
        module = check_file(path)
    except (HloError, ValueError, OSError) as err:
        print(f"FAIL {path}: {_reason(err)}")
        return 1
    from hloenv.altgraph.alternatives import alternatives_nodes
    nodes = alternatives_nodes(module)
    if nodes:  # (XLA's compare raised it as a traceback)
        print(f"FAIL {path}: an alternative graph ({len(nodes)} alternatives nodes): "
              "the demo runs a program; choose the options first (save env.module, not env.graph)")
        return 1
    print(f"module      {module.name} ({path.name})")
    print(f"size        {len(module.computations)} computations, {module.instruction_count} instructions")
    print(f"entry       {len(module.entry.parameters)} parameters -> {module.entry.root.shape.to_text()}")
    top = ", ".join(f"{op} {n}" for op, n in list(module.opcode_histogram().items())[:8])
    print(f"opcodes     {top}")
    print(f"fingerprint {module.fingerprint()}")
    print("checks      parsed, verified, printed, re-parsed by hloenv and by XLA: ok")
    from hloenv.xla import compare
    result = compare(path.read_text(), module.to_text())
    print(f"xla         original vs printed text on the same random inputs: "
          f"{'identical outputs' if result.equal else 'OUTPUTS DIFFER'}")
    if not result.equal:
        return 1
    if args.no_optimize:
        return 0
    from hloenv.optimize import optimize
    what = f", budget {budget}" if (budget := options.get("max_expansions", options.get("budget"))) else ""
    how = " (beam search over the env's decisions)" if args.agent == "search" else ""
    print(f"optimize    agent {args.agent}{what}{how}...")
    best, outcome = optimize(path, args.agent, agent_options=options)
    if outcome.error:
        print(f"optimize    FAILED: {outcome.error}")
        return 1
    print(f"runtime     XLA default pipeline {outcome.xla_runtime * 1e6:.1f} us, hloenv+{args.agent} "
          f"{outcome.agent_runtime * 1e6:.1f} us: speedup {outcome.speedup:.3f}x (medians, timed in turn, "
          f"low-noise mode; 90% interval {outcome.speedup_low:.3f}-{outcome.speedup_high:.3f}x)")
    print(f"verified    outputs {VERDICTS.get(outcome.verified, 'DIFFER from the original')}")
    return 0 if outcome.outputs_equal else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hloenv", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="parse, verify and round-trip HLO files")
    check.add_argument("files", nargs="+", help="HLO text files (or .pb HloModuleProto), or folders of them")
    check.set_defaults(func=_cmd_check)
    demo = sub.add_parser("demo", help="run the main job on the bundled default module")
    demo.add_argument("file", nargs="?", help="an HLO file instead of the bundled module")
    demo.add_argument("--agent", default="search", help="agent for the optimize step (default: search)")
    demo.add_argument("--budget", type=int, default=None,
                      help=f"agent budget (search: states expanded, default {DEMO_SEARCH_BUDGET}; "
                           "greedy: cost evaluations)")
    demo.add_argument("--no-optimize", action="store_true", help="stop after the round-trip checks")
    demo.set_defaults(func=_cmd_demo)
    from hloenv.optimize import add_commands as add_optimize_command
    from hloenv.xla.cli import add_commands as add_xla_commands
    add_xla_commands(sub)
    add_optimize_command(sub)
    from hloenv.bench_cli import add_commands as add_bench_commands
    add_bench_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
