"""Command-line faces of the dataset tools: ``hloenv harvest`` and ``hloenv bench``.

    hloenv harvest OUT [--min-instructions N] -- python my_script.py [args]
    hloenv bench DATASET --agent NAME [--backend cpu] [--workers N] [--out DIR] [--ray ADDRESS] [--limit N]

``DATASET`` is a folder, an archive, one file, or ``default`` (the bundled modules). Exit codes:
0 done (failed modules are rows of the table, not errors), 1 done but no module ended sound (every
row failed: an agent that always raises, say), 2 bad arguments or unusable input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register ``harvest`` and ``bench`` on an argparse subparsers object."""
    p = subparsers.add_parser("harvest", help="run a JAX program with XLA dump flags, keep its modules",
                              usage="hloenv harvest OUT [options] -- COMMAND...")
    p.add_argument("out", help="folder to write <program>__<function>.hlo files into")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                   help="the program to run, after '--' (e.g. -- python train.py)")
    _harvest_options(p)
    p.set_defaults(func=run_harvest)

    p = subparsers.add_parser("bench", help="run an agent over a dataset, measure against XLA")
    p.add_argument("dataset", help="folder, .tar/.tar.gz/.zip, HLO file, or 'default'")
    p.add_argument("--agent", required=True, help="agent name (random, original, all, xla, ...; your own: "
                   "module:name or file.py:name)")
    p.add_argument("--agent-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the agent, repeatable (e.g. checkpoint=gnn.pt, max_expansions=8)")
    p.add_argument("--backend", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--workers", type=int, default=1,
                   help="modules run at once (threads sharing as many XLA workers; CPUs of --ray local)")
    p.add_argument("--out", default="bench_out", help="output folder (default ./bench_out)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="run the jobs on Ray: a cluster address, 'auto', or 'local'")
    p.add_argument("--limit", type=int, default=None, help="only the first N modules")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds per compile+run (default 900)")
    p.add_argument("--seed", type=int, default=0, help="input and agent seed (default 0)")
    p.add_argument("--low-noise", action="store_true",
                   help="time in XLA workers pinned to one core each with single-threaded Eigen "
                        "(steadier medians; the search agent measures its candidates the same way)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--rerun", action="store_true",
                   help="run every module again, even those OUT/results.jsonl has for these settings "
                        "(an agent is known by its name: after changing its code, rerun)")
    p.set_defaults(func=run_bench_command)


def _harvest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--program", help="name prefix of the written modules (default: script name)")
    from hloenv.dataset.harvest import MIN_INSTRUCTIONS
    p.add_argument("--min-instructions", type=int, default=MIN_INSTRUCTIONS,
                   help=f"drop modules smaller than this (default {MIN_INSTRUCTIONS}: JAX's one-op modules "
                        "for eager operations; 1 keeps every module)")
    p.add_argument("--timeout", type=float, default=None, help="seconds the program may run")
    p.add_argument("--quiet", action="store_true", help="send the program's output to OUT/harvest.log")


def _split_command(args: argparse.Namespace) -> list[str]:
    """The program after '--'; options between OUT and '--' are parsed into ``args``."""
    rest = list(args.cmd)
    if "--" not in rest:
        return rest
    cut = rest.index("--")
    options = argparse.ArgumentParser(prog="hloenv harvest", add_help=False)
    _harvest_options(options)
    options.parse_args(rest[:cut], namespace=args)
    return rest[cut + 1:]


def run_harvest(args: argparse.Namespace) -> int:
    """Handler of ``hloenv harvest``."""
    from hloenv.dataset import HarvestError, harvest
    command = _split_command(args)
    if not command:
        print("error: give the program after '--', e.g. hloenv harvest OUT -- python train.py",
              file=sys.stderr)
        return 2
    try:
        result = harvest(args.out, command, program=args.program,
                         min_instructions=args.min_instructions, timeout=args.timeout,
                         quiet=args.quiet)
    except HarvestError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        kept = getattr(stop, "result", None)
        print(f"\ninterrupted: what the program compiled until then is kept"
              f"{': ' + kept.summary() if kept is not None else ''}", file=sys.stderr)
        return 130
    for record in result.written:
        print(f"wrote {record['file']}: {record['instructions']} instructions "
              f"(fingerprint {record['fingerprint'][:12]}, from {record['source']})")
    for problem in result.problems:
        print(f"skipped {problem.source}: {problem.message}")
    print(result.summary())
    if result.dumped == 0:  # (it exited 0 with "0 modules dumped")
        print("error: the program compiled nothing with XLA (is it a JAX program that calls jitted "
              "functions? a compilation cache hit compiles nothing)", file=sys.stderr)
        return 1
    return 0 if result.returncode == 0 else 1


def run_bench_command(args: argparse.Namespace) -> int:
    """Handler of ``hloenv bench``."""
    from hloenv.agents.base import parse_agent_options
    from hloenv.dataset import DatasetError
    from hloenv.dataset.runner import run_bench
    from hloenv.xla import BackendUnavailable
    try:
        options = parse_agent_options(args.agent, args.agent_option)
        report = run_bench(args.dataset, args.agent, args.out, backend=args.backend, workers=args.workers,
                           ray=args.ray, limit=args.limit, timeout=args.timeout, seed=args.seed,
                           low_noise=args.low_noise, plots=not args.no_plots, agent_options=options,
                           rerun=args.rerun)
    except (ValueError, TypeError, ImportError, FileNotFoundError, DatasetError, BackendUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished modules are kept in {args.out}/results.jsonl; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    from hloenv.dataset.bench import SOUND_STATUSES
    if report.rows and not any(r.get("status") in SOUND_STATUSES for r in report.rows):
        print("error: no module ended with a sound result (see the status column)", file=sys.stderr)
        return 1
    return 0
