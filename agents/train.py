"""Train the gnn policy with REINFORCE on the cost reward.

    python -m hloenv.agents.train DATA... [--iterations 20] [--holdout 0.25] [--out gnn.pt]

DATA are HLO files or folders of them. Modules are split into train and held-out sets by
fingerprint; each iteration plays one episode per training module, updates the policy with
REINFORCE (advantage = return minus a per-module moving-average baseline), prints progress, and
saves a checkpoint. The reported loss is the policy's negative mean return (the objective it
minimises); at the end the held-out modules are played greedily by the trained policy, `random`
and `greedy`, and the mean returns are printed side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from hloenv.agents.base import get_agent, run_episode
from hloenv.agents.gnn import GnnAgent, PolicyNet, sample_action, save_checkpoint
from hloenv.altgraph.checks import check_int, check_number
from hloenv.env import HloEnv
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline

HLO_SUFFIXES = (".hlo", ".txt", ".pb")


@dataclass
class TrainResult:
    losses: list[float] = field(default_factory=list)     # per iteration: -mean return
    returns: list[float] = field(default_factory=list)    # per iteration: mean episode return
    train: list[str] = field(default_factory=list)
    heldout: list[str] = field(default_factory=list)
    heldout_returns: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def collect(paths: Sequence[str | Path]) -> list[Path]:
    """The files given and the HLO files under the folders given.

    Raises:
        FileNotFoundError: a path that is neither. ValueError: a folder with no HLO file.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith(HLO_SUFFIXES)
                           and f.name != "LICENSE")
            if not found:
                raise ValueError(f"{p}: a folder with no HLO files (by ending: {', '.join(HLO_SUFFIXES)})")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"no HLO file or folder at {p}")
    return files


def split(files: list[Path], holdout: float) -> tuple[list[Path], list[Path]]:
    """Deterministic: a file is held out by the hash of its name."""
    if holdout <= 0 or len(files) < 2:
        return files, []
    key = lambda f: hashlib.sha256(f.name.encode()).hexdigest()  # noqa: E731
    ordered = sorted(files, key=key)
    n = max(1, int(round(len(files) * holdout)))
    return ordered[n:], ordered[:n]


def make_envs(files: list[Path], pipeline: EnvPipeline, max_steps: int, log) -> list[tuple[str, HloEnv]]:
    envs = []
    for f in files:
        try:
            envs.append((f.name, HloEnv(f, reward="cost", pipeline=pipeline, max_steps=max_steps)))
        except Exception as err:  # a module we cannot load is skipped, not fatal
            log(f"skip {f.name}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    return envs


def play(env: HloEnv, net: PolicyNet, rng: np.random.Generator, seed: int, greedy: bool = False):
    obs, info = env.reset(seed=seed)
    logps, total = [], 0.0
    while True:
        action, logp = sample_action(net, obs, info["action_mask"].shape[0], rng, greedy)
        obs, reward, terminated, truncated, info = env.step(action)
        logps.append(logp)
        total += reward
        if terminated or truncated:
            return total, logps


def train(files: Sequence[str | Path], iterations: int = 20, holdout: float = 0.25, lr: float = 3e-3,
          hidden: int = 64, layers: int = 3, max_steps: int = 8, seed: int = 0,
          pipeline: EnvPipeline = DEFAULT_ENV_PIPELINE, out: str | Path | None = None,
          compare_baselines: bool = True, log=print) -> TrainResult:
    """Train and return the learning curve (see the module docstring).

    Raises:
        FileNotFoundError, ValueError, TypeError: data, settings or `out` it cannot use, before
            any training.
    """
    t0 = time.perf_counter()
    check_int("iterations", iterations, 0)
    check_number("holdout", holdout)
    if holdout >= 1:
        raise ValueError(f"holdout must be below 1 (the fraction of modules held out), not {holdout}")
    check_number("lr", lr, above=True)
    check_int("max_steps", max_steps, 1)
    check_int("seed", seed)
    torch.manual_seed(seed)
    net = PolicyNet(hidden, layers)  # (checks hidden and layers)
    all_files = collect(files)
    train_files, held_files = split(all_files, holdout)
    if not train_files:
        raise ValueError(f"holdout {holdout} leaves none of the {len(all_files)} modules to train on")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)  # (not after the first iteration's work)
    rng = np.random.default_rng(seed)
    envs = make_envs(train_files, pipeline, max_steps, log)
    if not envs:
        raise ValueError(f"none of the {len(train_files)} training modules could be loaded (see 'skip' above)")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    baseline: dict[str, float] = {}
    scale: dict[str, float] = {}
    result = TrainResult(train=[n for n, _ in envs], heldout=[f.name for f in held_files])
    for it in range(1, iterations + 1):
        returns = []
        for name, env in envs:
            total, logps = play(env, net, rng, seed=it)
            returns.append(total)
            b = baseline.get(name, total)
            s = scale.get(name, abs(total) or 1e-6)
            advantage = (total - b) / max(s, 1e-9)
            baseline[name] = 0.8 * b + 0.2 * total
            scale[name] = 0.8 * s + 0.2 * abs(total - b) + 1e-12
            if logps and advantage != 0.0:
                loss = -advantage * torch.stack(logps).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        mean = float(np.mean(returns))
        result.returns.append(mean)
        result.losses.append(-mean)
        log(f"iteration {it:3d}/{iterations}  mean return {mean:+.5f}  loss {-mean:+.5f}  "
            f"({len(envs)} modules, {time.perf_counter() - t0:.0f} s)")
        if out:
            save_checkpoint(net, out, {"iteration": it, "returns": result.returns})
    if held_files and compare_baselines:
        held = make_envs(held_files, pipeline, max_steps, log)
        for label, agent in (("gnn", GnnAgent(net=net, greedy=True)), ("random", get_agent("random")),
                             ("greedy", get_agent("greedy"))):
            scores = [run_episode(env, agent, seed=0).total_reward for _, env in held]
            result.heldout_returns[label] = float(np.mean(scores)) if scores else float("nan")
        log("held-out mean return: " + ", ".join(f"{k} {v:+.5f}" for k, v in result.heldout_returns.items()))
    result.seconds = time.perf_counter() - t0
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hloenv.agents.train", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("data", nargs="+", help="HLO files or folders")
    ap.add_argument("--iterations", type=int, default=20, help="training iterations (an episode per module each)")
    ap.add_argument("--holdout", type=float, default=0.25,
                    help="fraction of the modules kept out of training, to compare gnn, random and greedy on")
    ap.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    ap.add_argument("--hidden", type=int, default=64, help="width of the policy network's layers")
    ap.add_argument("--layers", type=int, default=3, help="message-passing layers of the policy network")
    ap.add_argument("--max-steps", type=int, default=8, help="step limit of each training episode")
    ap.add_argument("--seed", type=int, default=0, help="seed of torch, the split and the episodes")
    ap.add_argument("--out", default="gnn.pt",
                    help="checkpoint path (saved every iteration; run it with --agent gnn --agent-option checkpoint=PATH)")
    args = ap.parse_args(argv)
    try:
        result = train(args.data, args.iterations, args.holdout, args.lr, args.hidden, args.layers,
                       args.max_steps, args.seed, out=args.out)
    except (ValueError, TypeError, OSError) as err:  # (OSError: FileNotFoundError, an unwritable --out)
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"done in {result.seconds:.0f} s; checkpoint {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
