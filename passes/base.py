"""Passes: a named, typed unit of rewriting that runs for real or in dry mode."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import ClassVar

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import materialize_all
from hloenv.altgraph.checks import did_you_mean
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import KNOWN_OPCODES
from hloenv.passes.rewriter import RecordingRewriter, Rewriter

#: name -> pass class; filled by `register`.
PASSES: dict[str, type["Pass"]] = {}
#: what a pass name may be: what pipeline strings read as one (`passes.pipeline` builds on it)
PASS_NAME = r"[A-Za-z][A-Za-z0-9_\-]*"
_PASS_NAME = re.compile(PASS_NAME)


def register(cls: type["Pass"]) -> type["Pass"]:
    """Class decorator: make a pass available by name (`get_pass("algsimp")`, pipeline strings).

    Raises:
        ValueError: no name, or a name another pass has (a built-in's too: pick another name).
            Registering a class of the same module and name again (a reloaded module, a notebook
            cell run twice) replaces it.
    """
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if not isinstance(cls.name, str) or not _PASS_NAME.fullmatch(cls.name):
        raise ValueError(f"pass name {cls.name!r} ({cls.__qualname__}) cannot be written in a pipeline string: "
                         "a letter, then letters, digits, '-' or '_' (e.g. 'my-pass')")
    if issubclass(cls, RewritePass):
        if not isinstance(cls.rules, (tuple, list)):
            raise TypeError(f"pass {cls.name!r} ({cls.__qualname__}.rules): rules are a tuple of rule "
                            f"instances, e.g. rules = ({type(cls.rules).__name__}(),), not {cls.rules!r:.60}")
        for rule in cls.rules:
            _check_rule(cls, rule)
    _load_builtin_passes()  # (first: a built-in loaded later would silently take its name back)
    taken = PASSES.get(cls.name)
    if taken is not None and qualified_name(taken) != qualified_name(cls):
        raise ValueError(f"pass name {cls.name!r} is taken by {qualified_name(taken)}; give "
                         f"{qualified_name(cls)} another name")
    PASSES[cls.name] = cls
    return cls


def _check_rule(cls: type["Pass"], rule: object) -> None:
    """A TypeError or ValueError for a rule that could never fire or would fail only once it
    matches: a class for an instance, no name, `opcodes` a string or naming no HLO opcode."""
    where = f"pass {cls.name!r} ({cls.__qualname__}.rules)"
    if isinstance(rule, type):
        raise TypeError(f"{where}: {rule.__name__} is a class; list an instance, {rule.__name__}()")
    if not isinstance(rule, RewriteRule):
        raise TypeError(f"{where}: {rule!r} is not a RewriteRule")
    if not rule.name:
        raise ValueError(f"{where}: {type(rule).__name__} has no name")
    opcodes = rule.opcodes
    if isinstance(opcodes, str) or not isinstance(opcodes, (set, frozenset, tuple, list)) or not opcodes:
        raise TypeError(f"{where}: rule {rule.name!r} must list the opcodes it matches as a set, e.g. "
                        f"frozenset({{'negate'}}), not {opcodes!r}")
    unknown = sorted(op for op in opcodes if op not in KNOWN_OPCODES)
    if unknown:
        hints = ", ".join(f"{op!r}{did_you_mean(op, KNOWN_OPCODES)}" for op in unknown)
        raise ValueError(f"{where}: rule {rule.name!r} matches no HLO opcode {hints}")


def qualified_name(obj: object) -> str:
    """`module.QualifiedName` of a class or function (how registries tell owners of a name apart)."""
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def get_pass(name: str, **options) -> "Pass":
    _load_builtin_passes()
    if name not in PASSES:
        raise ValueError(f"unknown pass {name!r}{did_you_mean(name, PASSES, n=3)}; known: {', '.join(sorted(PASSES))}")
    cls = PASSES[name]
    known = {f.name: f for f in fields(cls)}
    for key, value in options.items():
        if key not in known:
            raise ValueError(f"pass {name!r} has no option {key!r}; options: {', '.join(known) or 'none'}")
        annotation = known[key].type  # (a string under `from __future__ import annotations`)
        type_name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        kind = _OPTION_TYPES.get(type_name)
        if kind is not None and (not isinstance(value, kind) or isinstance(value, bool) and bool not in kind):
            raise TypeError(f"pass {name!r}: option {key!r} must be {type_name}, not {value!r}")
    return cls(**options)


#: option annotations (their names) -> the values they take
_OPTION_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float),
                                              "bool": (bool,)}


def _load_builtin_passes() -> None:
    import hloenv.passes.registry  # noqa: F401  (imports every built-in pass module)


@dataclass
class PassResult:
    """What one run of a pass did."""

    name: str
    dry: bool
    rewrites: int = 0
    refused: int = 0
    seconds: float = 0.0
    log: list[tuple[str, str]] | None = None

    @property
    def changed(self) -> bool:
        return self.rewrites > 0


@dataclass(frozen=True)
class Pass:
    """Base class. Subclasses set `name` and implement `run(module, rewriter)`; dataclass fields
    are the pass's options."""

    name: ClassVar[str] = ""
    #: False for clean-up passes (dce): dry mode applies them, since they decide nothing.
    makes_decisions: ClassVar[bool] = True
    #: True for passes that never change an embedded computation (a fused body, a reducer, a
    #: comparator: anything called by an instruction other than while, conditional or call), as
    #: the fusion passes (`fusion_computations`); rewrite passes may change reducers. No pass
    #: changes a fused computation's insides in place. (`hloenv.altgraph.sharing` relies on both.)
    leaves_embedded_alone: ClassVar[bool] = False
    #: True for passes whose dry-run options read only what their site already depends on (a
    #: fusion of the site with some of its producers reads their operands): rerouting the site's
    #: users through such an option can never make a cycle, so the recording rewriter skips its
    #: cycle check (tests check on the corpus that it would never refuse one).
    offers_acyclic_options: ClassVar[bool] = False
    #: True for passes that read fusions' bodies (the fusion passes, defuse): the options an
    #: earlier dry fusion run left unbuilt (`hloenv.altgraph.lazy`) are built before they run.
    reads_fused_bodies: ClassVar[bool] = False

    def run(self, module: Module, rewriter: Rewriter) -> None:
        raise NotImplementedError

    def __call__(self, module: Module, dry: bool = False) -> PassResult:
        """Run on `module` in place; in dry mode record alternatives instead of rewriting."""
        check_run_arguments(module, dry)
        if self.reads_fused_bodies:
            materialize_all(module)
        if dry and self.makes_decisions:
            rewriter: Rewriter = RecordingRewriter(module, check_cycles=not self.offers_acyclic_options)
        else:
            rewriter = Rewriter(module)
        t0 = time.perf_counter()
        with gc_paused():
            self.run(module, rewriter)
            rewriter.finish()
        return PassResult(self.name, rewriter.dry, rewriter.rewrites, rewriter.refused,
                          time.perf_counter() - t0, rewriter.log)

    def __str__(self) -> str:
        opts = ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))
        return f"{self.name}{{{opts}}}" if opts else self.name


def check_run_arguments(module: object, dry: object) -> None:
    """A pass or pipeline runs on a Module, dry or not: a TypeError for anything else (HLO text
    gave "'str' object has no attribute 'computations'", and dry="no" ran in dry mode)."""
    if not isinstance(module, Module):
        raise TypeError(f"passes run on a Module (hloenv.parse_hlo(text), hloenv.load_hlo(path)), "
                        f"not {type(module).__name__}")
    if not isinstance(dry, bool):
        raise TypeError(f"dry must be True or False, not {dry!r}")


def fused_computation_ids(module: Module) -> set[int]:
    """ids of computations called by fusion instructions (rules leave their insides alone)."""
    return {id(c) for comp in module.computations for inst in comp.instructions
            if inst.opcode == "fusion" for c in inst.called_computations}


def rewritable_computations(module: Module) -> list[Computation]:
    """Computations a rewrite pass may change: all but fused computations."""
    fused = fused_computation_ids(module)
    return [c for c in module.computations if id(c) not in fused]


class RewriteRule:
    """One rewrite: `match_and_rewrite` looks at one instruction and, if the rule applies, builds the
    replacement with the rewriter and calls `rewriter.replace`. Returns True if it rewrote.

    Subclasses set `name` (kebab-case) and `opcodes` (the opcodes it can match, for dispatch), and
    document their HLO before and after in the docstring.
    """

    name: ClassVar[str] = ""
    opcodes: ClassVar[frozenset[str]] = frozenset()

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class RewritePass(Pass):
    """A pass made of rules, tried on every instruction (operands first) until one fires."""

    rules: ClassVar[tuple[RewriteRule, ...]] = ()

    def run(self, module: Module, rewriter: Rewriter) -> None:
        by_opcode: dict[str, list[RewriteRule]] = {}
        for rule in self.rules:
            for op in rule.opcodes:
                by_opcode.setdefault(op, []).append(rule)
        for comp in rewritable_computations(module):
            for inst in list(comp.instructions):
                rules = by_opcode.get(inst.opcode)
                if not rules or inst.parent is not comp:
                    continue
                if not inst.users and inst is not comp.root:
                    continue  # dead (often: just replaced)
                try:
                    for rule in rules:
                        if rule.match_and_rewrite(inst, rewriter):
                            break
                except Exception as err:  # (a user's rule: say where; the error itself is theirs)
                    err.add_note(f"in rule {rule.name!r} of pass {self.name!r}, at {inst.name!r} "
                                 f"({inst.opcode}) in computation {comp.name!r}")
                    raise


def instructions_of(module: Module) -> Iterator[Instruction]:
    for comp in rewritable_computations(module):
        yield from comp.instructions
