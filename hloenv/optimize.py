"""`hloenv optimize`: run an agent on a module, write the result, print its verified speedup."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, asdict
from pathlib import Path
from typing import Any

from hloenv.altgraph.module import Module


#: How `hloenv.xla.verify`'s verdicts are printed.
VERDICTS = {"equal": "equal to the original",
             "equal-env": "equal to the original compiled with the same (env) pipeline",
             "equal-f64": "equal to the original in f64 (f32 differs by amplified rounding)",
             "equal-unfused": "equal to the original with XLA's fused kernels off (XLA's fusion "
                              "changes this program's values; the decisions do not)"}


@dataclass
class OptimizeResult:
    """The agent's module, timed against XLA's default pipeline on the original, outputs checked."""

    agent: str
    instructions_before: int
    instructions_after: int
    steps: int
    xla_runtime: float | None
    agent_runtime: float | None
    speedup: float | None
    outputs_equal: bool | None
    seconds: float
    error: str | None = None
    #: Which check the outputs passed (``hloenv.xla.verify``): "equal", "equal-env", "equal-f64".
    verified: str = ""
    #: The speedup's 90% interval (`hloenv.xla.PairedTiming`): both modules are timed in turn, fresh.
    speedup_low: float | None = None
    speedup_high: float | None = None
    #: Whether the timing ran in low-noise mode (one pinned core, single-threaded Eigen).
    low_noise: bool = False


def optimize(source: str | Path | Module, agent: str = "search", reward: str = "cost", low_noise: bool = True,
             agent_options: dict[str, Any] | None = None, **env_kwargs: Any) -> tuple[Module, OptimizeResult]:
    """Run `agent` on `source`; returns the final module and the measured result. The speedup is
    a fresh paired measurement (`hloenv.xla.paired_timing`: the original under XLA's default
    pipeline and the agent's module timed in turn), never an agent's own measurement."""
    from hloenv.agents import get_agent, run_episode
    from hloenv.env import HloEnv
    from hloenv.xla import paired_timing, verify
    options = dict(agent_options or {})
    if agent == "search":
        # measure candidates the way the result is measured: some modules compile in one mode and
        # abort XLA in the other (seen: a fused transformer block with single-threaded Eigen)
        options.setdefault("low_noise", low_noise)
    chosen = get_agent(agent, **options)  # (a bad name or option: an error before any work)
    env = HloEnv(source, reward=reward, **env_kwargs)
    episode = run_episode(env, chosen)
    module = episode.module
    result = OptimizeResult(agent, env.original.instruction_count, module.instruction_count, episode.steps,
                            None, None, None, None, episode.seconds, low_noise=low_noise)
    try:
        timing = paired_timing(env.original, module, pipeline="xla-default", pipeline_b="env", low_noise=low_noise)
        result.xla_runtime, result.agent_runtime = timing.a.median, timing.b.median
        result.speedup, result.speedup_low, result.speedup_high = timing.speedup, timing.speedup_low, timing.speedup_high
        result.verified = verify(env.original, module)
        result.outputs_equal = bool(result.verified)
    except Exception as err:  # XLA failures are reported, the module is still written
        result.error = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
    return module, result


def add_commands(sub: Any) -> None:
    p = sub.add_parser("optimize", help="run an agent on a module and write the optimized module")
    p.add_argument("file", nargs="?", help="HLO file (default: the bundled module)")
    p.add_argument("--agent", default="search", help="random, original, all, xla, greedy, search, gnn; "
                   "your own: module:name or file.py:name (see register_agent)")
    p.add_argument("--budget", type=int, default=None, help="agent budget (search: max expansions; greedy: cost evaluations)")
    p.add_argument("--agent-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the agent, repeatable (e.g. checkpoint=gnn.pt for gnn)")
    p.add_argument("-o", "--output", help="where to write the optimized HLO text: what XLA compiles "
                   "(fusion decisions as opt-barrier regions, see hloenv/altgraph/lowering.py)")
    p.add_argument("--raw", action="store_true", help="with -o: write hloenv's own form instead (fusion "
                   "instructions with their fused computations; hloenv reads it, XLA through jaxlib does not)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-low-noise", dest="low_noise", action="store_false",
                   help="time with XLA's usual threads instead of one pinned core with single-threaded "
                        "Eigen (the default here: steadier; hloenv bench's default is the usual threads)")
    p.set_defaults(func=_cmd_optimize)


def _cmd_optimize(args: argparse.Namespace) -> int:
    from hloenv.cli import default_module_path
    path = Path(args.file) if args.file else default_module_path()
    from hloenv.agents.base import cli_agent_options
    try:
        options = cli_agent_options(args.agent, args.agent_option, args.budget)
    except (ValueError, TypeError, OSError) as err:  # the agent's fault, not the file's: usage error
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else None
    if out is not None:  # its folder is made first (as `hloenv bench --out` does), not after the work
        if out.is_dir():
            print(f"error: -o {out} is a folder: give the file to write (e.g. {out / path.name})", file=sys.stderr)
            return 2
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            print(f"FAIL {out}: cannot make its folder: {err}")
            return 1
    try:
        module, result = optimize(path, args.agent, agent_options=options, low_noise=args.low_noise)
    except (ValueError, OSError) as err:
        print(f"FAIL {path}: {err}")
        return 1
    if out is not None:
        from hloenv.xla.api import compile_text
        try:
            out.write_text(module.to_text() if args.raw else compile_text(module, None))
        except OSError as err:
            print(f"FAIL {out}: cannot write the optimized module: {err}")
            return 1
    if args.json:
        print(json.dumps(asdict(result), indent=1))
    else:
        print(f"module      {path.name}: {result.instructions_before} -> {result.instructions_after} instructions "
              f"in {result.steps} steps ({result.seconds:.1f} s, agent {result.agent})")
        if result.error:
            print(f"xla         FAILED: {result.error}")
        else:
            print(f"runtime     XLA default {result.xla_runtime * 1e6:.1f} us, {args.agent} {result.agent_runtime * 1e6:.1f} us"
                  f" -> speedup {result.speedup:.3f}x (90% interval {result.speedup_low:.3f}-{result.speedup_high:.3f}x;"
                  f" both timed in turn{', low-noise mode' if result.low_noise else ''})")
            print(f"verified    outputs {VERDICTS.get(result.verified, 'DIFFER from the original')}")
        if args.output:
            print(f"wrote       {args.output}" + (" (hloenv's form: fusion instructions)" if args.raw else
                                                  " (what XLA compiles: fusion decisions as opt-barrier regions)"))
    return 0 if result.error is None and result.outputs_equal else 1
