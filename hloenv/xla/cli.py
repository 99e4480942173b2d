"""Command-line faces of the XLA bridge: ``hloenv eval FILE`` and ``hloenv compare A B``.

The top-level CLI calls :func:`add_commands` with its argparse subparsers; each command's
handler returns the process exit code: 0 success (or equal), 1 not equal, 2 evaluation
error, 3 unsupported on the backend or backend unavailable.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hloenv.xla.errors import BackendUnavailable, EvaluationError, UnsupportedOnBackend

EXIT_OK, EXIT_NOT_EQUAL, EXIT_ERROR, EXIT_UNSUPPORTED = 0, 1, 2, 3


def _at_least_one(text: str) -> int:
    """argparse type: a whole number >= 1 (0 timed runs time nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parse_option(text: str) -> tuple[str, bool | int | str]:
    """``FLAG=VALUE``; ``true``/``false`` become bools and integers ints, as XLA wants them."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected FLAG=VALUE, got {text!r}")
    key, value = (part.strip() for part in text.split("=", 1))
    if value.lower() in ("true", "false"):
        return key.lstrip("-"), value.lower() == "true"
    if value.lstrip("-").isdigit():
        return key.lstrip("-"), int(value)
    return key.lstrip("-"), value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--pipeline", default="xla-default", choices=("xla-default", "env"))
    p.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    p.add_argument("--disable-passes", default="", metavar="A,B",
                   help="XLA passes to switch off (names checked against the pinned jaxlib)")
    p.add_argument("--xla-option", action="append", default=[], type=_parse_option,
                   metavar="FLAG=VALUE", help="any XLA DebugOptions flag; repeatable")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_commands(subparsers: Any) -> None:
    """Register ``eval`` and ``compare`` on an argparse subparsers object."""
    p = subparsers.add_parser("eval", help="compile, run and time a module with XLA")
    p.add_argument("file", help="HLO text file")
    _common(p)
    p.add_argument("--repeats", type=_at_least_one, default=20, help="timed runs at most (default 20)")
    p.add_argument("--time-budget", type=float, default=1.0, help="seconds of timed runs")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    p.add_argument("--low-noise", action="store_true",
                   help="one pinned core, single-threaded Eigen")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.set_defaults(func=run_eval)

    p = subparsers.add_parser("compare", help="run two modules on the same inputs, compare outputs")
    p.add_argument("a", help="HLO text file")
    p.add_argument("b", help="HLO text file")
    _common(p)
    p.add_argument("--rtol", type=float, default=None, help="override per-dtype rtol")
    p.add_argument("--atol", type=float, default=None, help="override per-dtype atol")
    p.add_argument("--precision", choices=("native", "f64"), default="native",
                   help="f64: run both with floats raised to f64 (tells rounding from a wrong rewrite)")
    p.set_defaults(func=run_compare)


def _error(args: argparse.Namespace, err: Exception) -> int:
    code = EXIT_UNSUPPORTED if isinstance(err, (UnsupportedOnBackend, BackendUnavailable)) else EXIT_ERROR
    if args.json:
        d = {"error": type(err).__name__, "message": str(err)}
        if isinstance(err, EvaluationError):
            d.update(status=err.status, message=err.message, stderr_tail=err.stderr_tail)
        print(json.dumps(d, indent=1))
    else:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
    return code


def _passes(args: argparse.Namespace) -> list[str]:
    return [p.strip() for p in args.disable_passes.split(",") if p.strip()]


def run_eval(args: argparse.Namespace) -> int:
    """Handler of ``hloenv eval``."""
    from hloenv.xla.api import evaluate
    try:
        ev = evaluate(args.file, backend=args.backend, pipeline=args.pipeline,
                      xla_options=dict(args.xla_option), disable_passes=_passes(args),
                      seed=args.seed, warmup=args.warmup, repeats=args.repeats,
                      time_budget=args.time_budget, low_noise=args.low_noise,
                      timeout=args.timeout, cache=not args.no_cache)
    except (EvaluationError, UnsupportedOnBackend, BackendUnavailable, ValueError,
            OSError) as err:
        return _error(args, err)
    if args.json:
        print(json.dumps(ev.to_dict(), indent=1))
    else:
        print(f"{ev.module_name}: median {ev.median * 1e3:.4f} ms  min {ev.min * 1e3:.4f} ms  "
              f"IQR {ev.iqr * 1e3:.4f} ms  ({ev.sample_count} runs after {ev.warmup_runs} warm-up)")
        print(f"  compile {ev.compile_time:.3f} s  backend {ev.backend}  pipeline {ev.pipeline}  "
              f"{'(cached)' if ev.cached else ''}")
        print(f"  device {ev.device}  jaxlib {ev.jaxlib_version}")
        if ev.options.get("xla_options"):
            print(f"  xla options {ev.options['xla_options']}")
    return EXIT_OK


def run_compare(args: argparse.Namespace) -> int:
    """Handler of ``hloenv compare``."""
    from hloenv.xla.api import compare
    try:
        c = compare(args.a, args.b, backend=args.backend, pipeline=args.pipeline, seed=args.seed,
                    rtol=args.rtol, atol=args.atol, xla_options=dict(args.xla_option),
                    disable_passes=_passes(args), timeout=args.timeout, precision=args.precision)
    except (EvaluationError, UnsupportedOnBackend, BackendUnavailable, ValueError,
            OSError) as err:
        return _error(args, err)
    if args.json:
        print(json.dumps(c.to_dict(), indent=1))
    else:
        print("equal" if c.equal else f"NOT equal: {c.reason}")
        for d in c.outputs:
            mark = "ok  " if d.equal else "DIFF"
            print(f"  {mark} output {d.index} {d.dtype}{list(d.shape)}  max abs err "
                  f"{d.max_abs_error:.3g}  max rel err {d.max_rel_error:.3g}"
                  f"{'  ' + d.reason if d.reason else ''}")
    return EXIT_OK if c.equal else EXIT_NOT_EQUAL


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m hloenv.xla.cli eval FILE``) until the top CLI wires us in."""
    parser = argparse.ArgumentParser(prog="hloenv-xla")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
