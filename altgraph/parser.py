"""A fast, lossless parser for HLO text of both eras.

2022 style:    ``%add.3 = f32[2]{0} add(f32[2]{0} %a, f32[2]{0} %b), metadata={...}``
current style: ``add.3 = f32[2]{0} add(a, b), metadata={...}``

Each instruction line is taken apart by one regular expression (the fast path); a line it does not
fit (deeply nested attributes, a statement spread over several lines, malformed text) goes through
a bracket-aware scanner that either parses it or says exactly where it is wrong. Attribute values
are kept as written, so nothing the parser does not model is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hloenv.altgraph.checks import did_you_mean
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.errors import HloParseError
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import (CALLED_COMPUTATION_ATTRS, CONTROL_PREDECESSORS,
                                         LIST_VALUED_CALL_ATTRS, Instruction)
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import KNOWN_OPCODES
from hloenv.altgraph.shape import Shape, _cache as _shape_cache, _parse_at, parse_shape

_NAME = r"[A-Za-z_][\w.\-]*"
_STR = r'"(?:[^"\\]|\\.)*+"'
# an array shape, or a tuple shape nested up to three deep (index comments allowed)
_SHAPE = r"(?:[a-z][a-z0-9]*+\[[^\]]*+\](?:\{[^{}]*+\})?|\((?:[^()]++|\((?:[^()]++|\([^()]*+\))*+\))*+\))"
_INST_PATTERN = (
    rf"[ \t]*+(ROOT[ \t]+)?%?([\w.\-]++)[ \t]*=[ \t]*({_SHAPE})[ \t]++([a-z][a-z0-9\-]*+)"
    r"\(([^()\"\n]*+(?:\((?:[^()\n]++|\([^()\n]*+\))*+\)[^()\"\n]*+)*+)\)((?:[, \t\r].*)?)$")
#: one instruction line: (ROOT, name, shape, opcode, operands, attributes)
_INST = re.compile(_INST_PATTERN)
#: the same over a block of lines (one match per line)
_INST_LINES = re.compile("^" + _INST_PATTERN, re.MULTILINE)
# one `, key=value` attribute; values nest braces up to three deep
_VAL = (rf"(?:{_STR}|\{{(?:[^{{}}\"]++|{_STR}|\{{(?:[^{{}}\"]++|{_STR}|\{{(?:[^{{}}\"]++|{_STR})*+\}})*+\}})*+\}}"
        r"|[^,{}\"\s]++)*+")
_ATTR = re.compile(rf",[ \t]*([\w.\-]+)=({_VAL})[ \t\r]*")
# the same, capturing the whole match so that findall can prove it covered the tail
_ATTR_SPAN = re.compile(rf"(,[ \t]*([\w.\-]+)=({_VAL})[ \t\r]*)")
_REFERENCE_ATTRS = CALLED_COMPUTATION_ATTRS | {CONTROL_PREDECESSORS}
_COMP_HEAD = re.compile(rf"[ \t]*(ENTRY[ \t]+)?%?({_NAME})[ \t]*(.*?)[ \t]*\{{[ \t]*$")
_MODULE_HEAD = re.compile(rf"[ \t]*HloModule[ \t]+%?({_NAME})(.*)$")
_SPECIAL = re.compile(r'[(){}\[\],"]')
_STRING = re.compile(_STR)
_OPCODE = re.compile(r"[a-z][a-z0-9\-]*")
_PAIRS = {"(": ")", "{": "}", "[": "]"}
_MAX_JOINED_LINES = 100_000
_PCT_NAME = re.compile(r"%([A-Za-z_][\w.\-]*)")
_NO_NAMES: list[str] = []
#: marks an instruction whose control-predecessors are resolved after the whole computation
_PENDING_CONTROL: list = []


class _Incomplete(Exception):
    """The statement continues on the next line (an open bracket or string)."""


def parse_hlo(text: str | bytes, source: str | None = None, *, allow_elided: bool = False) -> Module:
    """Parse HLO text into a Module.

    Args:
        text: HLO module text, either era. Bytes are decoded as UTF-8.
        source: a file name for error messages.
        allow_elided: accept constants printed as `{...}` (their values are lost: XLA runs them as
            zeros). Such modules are marked with `module.has_elided_constants`.

    Raises:
        HloParseError: with line and column, for anything that is not well-formed HLO.
    """
    try:
        with gc_paused():  # the parser allocates only live objects; collecting mid-parse costs ~2x
            return _Parser(strip_comments(strip_dump_tables(_as_text(text))), allow_elided).parse()
    except HloParseError as err:
        raise (err.with_source(source) if source else err) from None
    except RecursionError:
        raise HloParseError("nesting too deep", source=source) from None


# XLA's dumps (jaxlib >= 0.5) put stack-frame tables between the header and the first computation,
# and instructions refer to them with `stack_frame_id=N`: metadata only.
_DUMP_TABLES = re.compile(r"^(?:FileNames|FunctionNames|FileLocations|StackFrames)[ \t]*\n"
                          r"(?:[ \t]*\d+[ \t].*\n?)*", re.MULTILINE)
_STACK_FRAME_ID = re.compile(r",?\s*stack_frame_id=\d+")


def strip_dump_tables(text: str) -> str:
    """Drop the stack-frame tables of XLA's dumps (``FileNames``, ``StackFrames``, ...) and the
    ``stack_frame_id`` references to them. Each table becomes blank lines, so error positions
    still point at the right line."""
    if "\nFileNames" not in text and "\nStackFrames" not in text:
        return text
    text = _DUMP_TABLES.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return _STACK_FRAME_ID.sub("", text)


# A string literal or one of the marks XLA's printer writes (`/*index=5*/` in long lists, `/*i0=2*/`
# in literals), both kept; or a /* block */ or // line comment, blanked.
_STRING_OR_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*"|/\*(?:index|i\d+)=\d+\*/)|/\*.*?\*/|//[^\n]*', re.DOTALL)


def strip_comments(text: str) -> str:
    """Blank out the `/* ... */` and `// ...` comments XLA's parser skips (outside string
    literals), keeping every line and column where it was, so errors still point at the right
    place. The printer's own marks stay as they are (a constant's text, and so its fingerprint,
    does not change); text with no other comment is returned as it is."""
    if "//" not in text and text.count("/*") == text.count("/*i"):
        return text

    def blank(m: re.Match) -> str:
        return m.group(0) if m.group(1) else re.sub(r"[^\n]", " ", m.group(0))
    return _STRING_OR_COMMENT.sub(blank, text)


def _as_text(text: str | bytes) -> str:
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise HloParseError(f"not UTF-8 text (byte {err.start}): binary data is not HLO text") from None
    if not isinstance(text, str):
        raise TypeError(f"expected HLO text, got {type(text).__name__}")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise HloParseError("NUL byte: binary data is not HLO text", line, nul - text.rfind("\n", 0, nul))
    if text.startswith("\ufeff"):  # a byte-order mark some editors write
        text = text[1:]
    if "\r" in text:  # Windows line ends (same lines, so error positions stay right)
        text = text.replace("\r\n", "\n")
    return text


class _Parser:
    def __init__(self, text: str, allow_elided: bool = False):
        self.lines = text.split("\n")
        self.allow_elided = allow_elided
        self.elided = False
        self.control_names: dict[Instruction, list[str]] = {}
        #: line number -> statement text, for statements that span several lines
        self.joined: dict[int, str] = {}
        self.pending_calls: list[tuple[Instruction, dict[str, list[str]]]] = []

    # -- module and computations ------------------------------------------------------------------
    def parse(self) -> Module:
        lines = self.lines
        i = self._skip_blank(0)
        if i >= len(lines):
            raise HloParseError("empty input: expected 'HloModule <name>'", 1, 1)
        m = _MODULE_HEAD.match(lines[i])
        if m is None:
            head = lines[i].strip()
            hint = ("; this is MLIR (StableHLO) text: hloenv.dataset.frontends.stablehlo_to_hlo converts it, "
                    "or give jax.jit(f).lower(*args).as_text(dialect='hlo'), or use HloEnv.from_jax(f, *args)"
                    if head.startswith(("module ", "module{", "func.func", "#loc")) else "")
            raise HloParseError(f"expected 'HloModule <name>', got {head[:60]!r}{hint}", i + 1, 1)
        module = Module(m.group(1), attrs=self._attrs(m.group(2), i + 1, m.start(2)))
        entry: Computation | None = None
        by_name: dict[str, Computation] = {}
        i += 1
        while True:
            i = self._skip_blank(i)
            if i >= len(lines):
                break
            line = lines[i]
            head = _COMP_HEAD.match(line)
            if head is None:
                raise HloParseError(f"expected a computation header '<name> {{', got {line.strip()[:60]!r}",
                                    i + 1, len(line) - len(line.lstrip()) + 1)
            comp = Computation(head.group(2), is_entry=head.group(1) is not None)
            self._header_rest(comp, head.group(3), i + 1, head.start(3))
            if comp.name in by_name:
                raise HloParseError(f"duplicate computation name {comp.name!r}", i + 1, head.start(2) + 1)
            if comp.is_entry:
                if entry is not None:
                    raise HloParseError(f"second ENTRY computation {comp.name!r} (first: {entry.name!r})",
                                        i + 1, 1)
                entry = comp
            i = self._body(comp, i + 1, i + 1)
            by_name[comp.name] = comp
            comp.module = module
            module.computations.append(comp)
        if not module.computations:
            raise HloParseError("module has no computations", len(lines), 1)
        module.entry = entry if entry is not None else module.computations[-1]
        module.entry.is_entry = True
        self._resolve_calls(by_name)
        _check_call_chains(module)
        module.has_elided_constants = self.elided
        return module

    def _skip_blank(self, i: int) -> int:
        lines = self.lines
        while i < len(lines):
            s = lines[i].strip()
            if s and not s.startswith("//"):
                break
            i += 1
        return i

    def _header_rest(self, comp: Computation, rest: str, line_no: int, col: int) -> None:
        """The optional `(p: f32[]) -> f32[]` signature and `, key=value` attributes of a header."""
        pos = 0
        if rest.startswith("("):
            try:
                end = _scan(rest, 1, stop_at_comma=False)
            except _Incomplete:
                raise HloParseError("unterminated computation signature", line_no, col + 1) from None
            if end >= len(rest):
                raise HloParseError("unterminated computation signature", line_no, col + 1)
            pos = end + 1
            arrow = rest.find("->", pos)
            if arrow < 0 or rest[pos:arrow].strip():
                raise HloParseError("expected '->' after the computation's parameters", line_no, col + pos + 1)
            try:
                _, pos = _parse_at(rest, arrow + 2)
            except HloParseError as err:
                raise HloParseError(err.reason, line_no, col + err.column) from None
        tail = rest[pos:].strip()
        if tail:
            if not tail.startswith(","):
                raise HloParseError(f"unexpected {tail[:40]!r} in computation header", line_no, col + pos + 1)
            comp.attrs = self._attrs(tail, line_no, col + pos)

    def _body(self, comp: Computation, i: int, header_line: int) -> int:
        """Parse the instructions of `comp` up to its closing brace; returns the next line index."""
        lines = self.lines
        try:
            close = lines.index("}", i)
        except ValueError:
            close = -1
        if close > i:
            # Fast path: XLA prints one instruction per line with nothing in between, so one
            # findall over the block takes every line apart at C speed.
            block = lines[i:close]
            rows = _INST_LINES.findall("\n".join(block))
            if len(rows) == len(block):
                self._build(comp, rows, None, i + 1, header_line)
                return close + 1
        rows, line_nos, i = self._rows_line_by_line(comp, i, header_line)
        self._build(comp, rows, line_nos, 0, header_line)
        return i

    def _rows_line_by_line(self, comp: Computation, i: int, header_line: int):
        """(rows, their line numbers, next line index) for a block with blank lines, comments or
        statements spread over several lines; malformed lines raise with their exact column."""
        lines = self.lines
        n = len(lines)
        match = _INST.match
        rows: list[tuple] = []
        line_nos: list[int] = []
        while True:
            if i >= n:
                raise HloParseError(f"unexpected end of input: computation {comp.name!r} "
                                    f"(opened at line {header_line}) is not closed with '}}'", n, 1)
            line = lines[i]
            m = match(line)
            if m is not None:
                rows.append(m.groups())
                line_nos.append(i + 1)
                i += 1
                continue
            stripped = line.strip()
            if stripped == "}":
                return rows, line_nos, i + 1
            if not stripped or stripped.startswith("//"):
                i += 1
                continue
            if stripped.startswith("}"):
                raise HloParseError(f"unexpected {stripped[:40]!r} after '}}'", i + 1, line.find("}") + 2)
            first = i
            stmt = lines[i]
            while True:
                try:
                    rows.append(_split_instruction(stmt, first + 1))
                    break
                except _Incomplete as inc:
                    i += 1
                    if i >= n or i - first > _MAX_JOINED_LINES or lines[i].strip() == "}":
                        raise HloParseError(str(inc), first + 1, 1) from None
                    stmt = stmt + "\n" + lines[i]
            self.joined[first + 1] = stmt
            line_nos.append(first + 1)
            i += 1

    def _text_of(self, line_no: int) -> str:
        """The statement text at a line (joined when it spans lines), for error columns."""
        return self.joined.get(line_no) or self.lines[line_no - 1]

    def _build(self, comp: Computation, rows: list[tuple], line_nos: list[int] | None, first_line: int,
               header_line: int) -> None:
        """Make the instructions of `comp` from (ROOT, name, shape, opcode, operands, attrs) rows.

        Operands defined on earlier lines are wired up at once; forward references (legal in
        HLO text) are resolved at the end, followed by a topological sort and a cycle check.
        """
        insts: list[Instruction] = []
        by_name: dict[str, Instruction] = {}
        forward: list[tuple[Instruction, list[str]]] = []
        root: Instruction | None = None
        shapes = _shape_cache
        setdefault = by_name.setdefault
        one_attr = _ATTR.fullmatch
        line_no = first_line - 1
        for k, (root_kw, name, shape_text, opcode, operand_text, tail) in enumerate(rows):
            line_no = line_nos[k] if line_nos is not None else line_no + 1
            shape = shapes.get(shape_text)
            if shape is None:
                shape = self._shape(shape_text, line_no, self._text_of(line_no))
            if opcode not in KNOWN_OPCODES:
                raise _unknown_opcode(opcode, line_no, self._text_of(line_no))
            if opcode == "parameter" or opcode == "constant":
                names = _NO_NAMES
                inst = Instruction(name, opcode, shape, None, None,
                                   self._payload(name, opcode, operand_text, line_no), None, line_no)
            else:
                if not operand_text:
                    names = _NO_NAMES
                elif "%" in operand_text:
                    names = _PCT_NAME.findall(operand_text)
                elif "[" in operand_text or "(" in operand_text:
                    names = _operand_names(operand_text, line_no, self._text_of(line_no).find(operand_text))
                else:
                    names = operand_text.split(", ")
                    if operand_text.count(" ") != len(names) - 1 or operand_text.count(",") != len(names) - 1:
                        # spaced otherwise than the printer spaces it ("a,b", "( a )", a blanked comment)
                        names = [n.strip() for n in operand_text.split(",")]
                inst = Instruction(name, opcode, shape, None, None, None, None, line_no)
            if tail:
                one = one_attr(tail)
                if one is not None and one.group(1) not in _REFERENCE_ATTRS:
                    inst.attrs = {one.group(1): one.group(2)}
                elif not tail.isspace():
                    self._instruction_attrs(inst, tail, line_no)
            if root_kw:
                if root is not None:
                    raise HloParseError(f"second ROOT {name!r} in computation {comp.name!r} "
                                        f"(first: {root.name!r})", line_no, 1)
                root = inst
            inst.parent = comp
            insts.append(inst)
            if names:  # wired before the name is registered, so `a = negate(a)` is a cycle
                try:
                    ops = inst.operands = [by_name[n] for n in names]
                except KeyError:
                    forward.append((inst, names))
                else:
                    for op in ops:
                        users = op.users
                        if not users or users[-1] is not inst:
                            users.append(inst)
            if setdefault(name, inst) is not inst:
                raise HloParseError(f"duplicate instruction name {name!r} (first defined at line "
                                    f"{by_name[name].line})", line_no, 1)
            if inst.control_predecessors is _PENDING_CONTROL:
                forward.append((inst, names))
        if not insts:
            raise HloParseError(f"computation {comp.name!r} has no instructions", header_line, 1)
        comp.instructions = insts
        if forward:
            self._resolve_forward(comp, by_name, forward)
        comp.root = root if root is not None else insts[-1]

    def _shape(self, shape_text: str, line_no: int, line: str) -> Shape:
        try:
            return parse_shape(shape_text)
        except HloParseError as err:
            raise HloParseError(err.reason, line_no, line.find(shape_text) + err.column) from None

    def _payload(self, name: str, opcode: str, text: str, line_no: int) -> str:
        payload = text.strip()
        if opcode == "parameter":
            if not payload.isdigit():
                raise HloParseError(f"parameter number must be a non-negative integer, got {payload!r}",
                                    line_no, self._text_of(line_no).find("parameter(") + 11)
        elif "..." in payload:
            self.elided = True
            if not self.allow_elided:
                raise HloParseError(
                    f"constant {name!r} is elided ('{{...}}'): XLA would run it as zeros; print the "
                    "module with print_large_constants=True", line_no,
                    self._text_of(line_no).find("constant(") + 10)
        return payload

    def _instruction_attrs(self, inst: Instruction, tail: str, line_no: int) -> None:
        line = self._text_of(line_no)
        attrs = self._attrs(tail, line_no, len(line) - len(tail))
        inst.attrs = attrs
        if attrs.keys().isdisjoint(_REFERENCE_ATTRS):
            return
        called = None
        for key in attrs:
            if key in CALLED_COMPUTATION_ATTRS or key == CONTROL_PREDECESSORS:
                names = _name_list(attrs[key], line_no, line.find(key + "=") + 1)
                attrs[key] = None
                if key == CONTROL_PREDECESSORS:
                    inst.control_predecessors = _PENDING_CONTROL  # type: ignore
                    self.control_names[inst] = names
                else:
                    if called is None:
                        called = {}
                    called[key] = names
        inst.attrs = attrs
        if called:
            self.pending_calls.append((inst, called))

    def _attrs(self, tail: str, line_no: int, col: int) -> dict[str, str | None]:
        """`, key=value, key=value` -> {key: value}; values kept as written."""
        found = _ATTR_SPAN.findall(tail)
        if sum([len(f[0]) for f in found]) == len(tail):
            attrs = {f[1]: f[2] for f in found}
            if len(attrs) == len(found):
                return attrs
        attrs = {}
        pos, end = 0, len(tail.rstrip())
        match = _ATTR.match
        while pos < end:
            m = match(tail, pos)
            if m is not None and (m.end() >= end or tail[m.end()] == ","):
                key, value, pos = m.group(1), m.group(2), m.end()
            else:
                key, value, pos = _attr_slow(tail, pos, line_no, col)
            if key in attrs:
                raise HloParseError(f"attribute {key!r} given twice", line_no, col + pos)
            attrs[key] = value
        return attrs

    # -- name resolution --------------------------------------------------------------------------
    def _resolve_forward(self, comp: Computation, by_name: dict[str, Instruction],
                         forward: list[tuple[Instruction, list[str]]]) -> None:
        """Wire operands and control predecessors that were used before their definition."""
        for inst, names in forward:
            line = self._text_of(inst.line)
            if inst.operands or not names:
                ops = inst.operands
            else:
                ops = []
                for name in names:
                    op = by_name.get(name)
                    if op is None:
                        raise _undefined(name, inst, comp, line)
                    ops.append(op)
                inst.operands = ops
                for op in ops:
                    if not op.users or op.users[-1] is not inst:
                        op.users.append(inst)
            if inst.control_predecessors is _PENDING_CONTROL:
                preds = []
                for name in self.control_names.pop(inst):
                    pred = by_name.get(name)
                    if pred is None:
                        raise HloParseError(f"control predecessor {name!r} of {inst.name!r} is not defined",
                                            inst.line, _col_of(line, name))
                    preds.append(pred)
                inst.control_predecessors = preds
        position = {id(inst): k for k, inst in enumerate(comp.instructions)}
        for k, inst in enumerate(comp.instructions):
            for op in [*inst.operands, *inst.control_predecessors]:
                if position[id(op)] >= k:
                    comp.instructions = _topological(comp.instructions)
                    return

    def _resolve_calls(self, by_name: dict[str, Computation]) -> None:
        for inst, called in self.pending_calls:
            line = self._text_of(inst.line)
            inst.called = {}
            for key, names in called.items():
                comps = []
                for name in names:
                    comp = by_name.get(name)
                    if comp is None:
                        raise HloParseError(f"{inst.name!r} calls computation {name!r} ({key}), which is "
                                            "not defined", inst.line, _col_of(line, name))
                    comps.append(comp)
                inst.called[key] = comps


#: Deeper call chains (a computation calling one that calls one ...) are refused: passes, printers
#: and copies recurse over them, and compiled (`hloenv.native`) recursion has no recursion limit.
MAX_CALL_DEPTH = 256


def _check_call_chains(module: Module) -> None:
    """No computation calls itself (directly or not), and no chain of calls is deeper than
    `MAX_CALL_DEPTH`; otherwise an HloParseError at the calling instruction. One walk over each
    computation's calls (depth first, without recursion)."""
    below: dict[Computation, int] = {}  # computation -> computations on its longest call chain, it included

    def calls(comp: Computation) -> Iterator[tuple[Instruction, Computation]]:
        for inst in comp.instructions:
            if inst.called:
                for callee in inst.called_computations:
                    yield inst, callee

    for start in module.computations:
        if start in below:
            continue
        path = [[start, calls(start), 0]]  # computation, its calls still to walk, deepest chain below it
        on_path = {start}
        while path:
            frame = path[-1]
            comp, todo = frame[0], frame[1]
            step = next(todo, None)
            if step is None:
                path.pop()
                on_path.discard(comp)
                below[comp] = depth = 1 + frame[2]
                if path:
                    path[-1][2] = max(path[-1][2], depth)
                continue
            inst, callee = step
            if callee in on_path:
                raise HloParseError(f"{inst.name!r} in {comp.name!r} calls {callee.name!r}, which calls "
                                    f"{comp.name!r} (directly or not): calls must not cycle", inst.line, 1)
            done = below.get(callee)
            if len(path) + (done or 1) > MAX_CALL_DEPTH:
                raise HloParseError(f"{inst.name!r} in {comp.name!r} makes calls nested more than "
                                    f"{MAX_CALL_DEPTH} deep", inst.line, 1)
            if done is None:
                path.append([callee, calls(callee), 0])
                on_path.add(callee)
            else:
                frame[2] = max(frame[2], done)


def _unknown_opcode(opcode: str, line_no: int, line: str) -> HloParseError:
    return HloParseError(f"unknown opcode {opcode!r}{did_you_mean(opcode, KNOWN_OPCODES, n=3)}", line_no, line.find(opcode + "(") + 1)


def _undefined(name: str, inst: Instruction, comp: Computation, line: str) -> HloParseError:
    if not name or not re.fullmatch(_NAME, name):
        return HloParseError(f"malformed operand list of {inst.name!r}: {name!r} is not a name",
                             inst.line, _col_of(line, name) if name else 1)
    return HloParseError(f"operand {name!r} of {inst.name!r} is not defined in computation {comp.name!r}",
                         inst.line, _col_of(line, name))


# -- helpers ----------------------------------------------------------------------------------------
def _col_of(text: str, name: str) -> int:
    pos = text.find(name, text.find("=") + 1)
    return pos + 1 if pos >= 0 else 1


def _scan(s: str, pos: int, stop_at_comma: bool) -> int:
    """Index of the first unmatched closer (or top-level comma) at or after pos; len(s) at the end."""
    stack: list[str] = []
    search = _SPECIAL.search
    while True:
        m = search(s, pos)
        if m is None:
            if stack:
                raise _Incomplete(f"unbalanced '{stack[-1]}': missing '{_PAIRS[stack[-1]]}'")
            return len(s)
        c, p = m.group(), m.start()
        if c == '"':
            e = _STRING.match(s, p)
            if e is None:
                raise _Incomplete("unterminated string")
            pos = e.end()
            continue
        if c in "({[":
            stack.append(c)
        elif c in ")}]":
            if not stack:
                return p
            opener = stack.pop()
            if _PAIRS[opener] != c:
                raise HloParseError(f"mismatched brackets: '{opener}' closed by '{c}'", 0, p + 1)
        elif not stack and stop_at_comma:
            return p
        pos = p + 1


def _split_instruction(stmt: str, line_no: int) -> tuple[str | None, str, str, str, str, str]:
    """Take an instruction statement apart, reporting the exact column of anything wrong.

    Returns the same groups as `_INST`: (ROOT or None, name, shape, opcode, operands, attributes).
    """
    pos = len(stmt) - len(stmt.lstrip())
    is_root = False
    if stmt.startswith("ROOT", pos) and stmt[pos + 4:pos + 5] in (" ", "\t"):
        is_root = True
        pos = len(stmt) - len(stmt[pos + 4:].lstrip())
    m = re.compile(rf"%?({_NAME})[ \t]*=[ \t]*").match(stmt, pos)
    if m is None:
        raise HloParseError(f"expected an instruction '<name> = <shape> <opcode>(...)', got "
                            f"{stmt.strip()[:60]!r}", line_no, pos + 1)
    name, pos = m.group(1), m.end()
    try:
        _, shape_end = _parse_at(stmt, pos)
    except HloParseError as err:
        if stmt.count("(", pos) > stmt.count(")", pos):
            raise _Incomplete("unbalanced '(' in shape") from None
        raise HloParseError(err.reason, line_no, err.column) from None
    shape_text = stmt[pos:shape_end]
    pos = shape_end
    while pos < len(stmt) and stmt[pos] in " \t":
        pos += 1
    m = _OPCODE.match(stmt, pos)
    if m is None or m.end() >= len(stmt) or stmt[m.end()] != "(":
        got = stmt[pos:pos + 30].strip() or "end of line"
        raise HloParseError(f"expected '<opcode>(' after the shape of {name!r}, got {got!r}", line_no, pos + 1)
    opcode, pos = m.group(), m.end() + 1
    try:
        close = _scan(stmt, pos, stop_at_comma=False)
    except HloParseError as err:
        raise HloParseError(err.reason, line_no, err.column) from None
    if close >= len(stmt):
        raise _Incomplete(f"missing ')' closing the operands of {name!r}")
    return "ROOT" if is_root else None, name, shape_text, opcode, stmt[pos:close], stmt[close + 1:]


def _attr_slow(tail: str, pos: int, line_no: int, col: int) -> tuple[str, str, int]:
    m = re.compile(r",[ \t]*([\w.\-]+)=").match(tail, pos)
    if m is None:
        got = tail[pos:pos + 40].strip()
        raise HloParseError(f"expected ', <attribute>=<value>', got {got!r}", line_no, col + pos + 1)
    start = m.end()
    try:
        end = _scan(tail, start, stop_at_comma=True)
    except HloParseError as err:
        raise HloParseError(err.reason, line_no, col + err.column) from None
    except _Incomplete as inc:
        raise HloParseError(f"attribute {m.group(1)!r}: {inc}", line_no, col + start + 1) from None
    if end < len(tail) and tail[end] != ",":
        raise HloParseError(f"unexpected {tail[end]!r} in attribute {m.group(1)!r}", line_no, col + end + 1)
    return m.group(1), tail[start:end].strip(), end


def _operand_names(text: str, line_no: int, col: int) -> list[str]:
    """Names from an operand list with types (`f32[2]{0} %a, (s32[], f32[]) %b`)."""
    names = []
    pos = 0
    while pos <= len(text):
        try:
            end = _scan(text, pos, stop_at_comma=True)
        except (HloParseError, _Incomplete) as err:
            raise HloParseError(f"malformed operand list: {err}", line_no, col + pos + 1) from None
        piece = text[pos:end].strip()
        if not piece:
            raise HloParseError("empty operand in operand list", line_no, col + pos + 1)
        name = piece.rsplit(None, 1)[-1].lstrip("%")
        if not re.fullmatch(_NAME, name):
            raise HloParseError(f"expected an operand name, got {piece[:40]!r}", line_no, col + pos + 1)
        names.append(name)
        pos = end + 1
    return names


def _name_list(value: str | None, line_no: int, col: int) -> list[str]:
    """`%a` or `{%a, %b}` -> ['a', 'b']."""
    v = (value or "").strip()
    if "{" not in v and "," not in v and " " not in v:
        return [v.lstrip("%")]
    if v.startswith("{") and v.endswith("}"):
        v = v[1:-1]
    names = [s.strip().lstrip("%") for s in v.split(",") if s.strip()]
    for name in names:
        if not re.fullmatch(_NAME, name):
            raise HloParseError(f"expected a name, got {name[:40]!r}", line_no, col)
    return names


def _topological(insts: list[Instruction]) -> list[Instruction]:
    """Operands-first order of a computation whose text used names before defining them."""
    position = {id(inst): k for k, inst in enumerate(insts)}
    state = [0] * len(insts)  # 0 new, 1 on stack, 2 done
    order: list[Instruction] = []
    for start in range(len(insts)):
        if state[start]:
            continue
        stack = [(start, 0)]
        state[start] = 1
        while stack:
            k, j = stack.pop()
            inst = insts[k]
            preds = [*inst.operands, *inst.control_predecessors]
            if j < len(preds):
                stack.append((k, j + 1))
                q = position[id(preds[j])]
                if state[q] == 1:
                    raise HloParseError(f"cycle: {preds[j].name!r} depends on itself through "
                                        f"{inst.name!r}", inst.line, 1)
                if state[q] == 0:
                    state[q] = 1
                    stack.append((q, 0))
            else:
                state[k] = 2
                order.append(inst)
    return order


def is_hlo_text(source: str) -> bool:
    """Is this string HLO text rather than a file's path? Text has a line break or starts with its
    `HloModule` header (a one-line module) and names no file there is (`HloModule_while.hlo` is a
    path); anything else is a path (braces and all). The one rule every API that takes "a path or
    HLO text" (HloEnv, evaluate, compare) applies."""
    if "\n" in source:
        return True
    if not source.lstrip("\ufeff \t\r").startswith("HloModule"):
        return False
    import os
    try:
        return not os.path.exists(source)
    except (ValueError, OSError):  # (a NUL byte, a name too long: not a file)
        return True


def load_hlo(path, source_name: str | None = None, *, allow_elided: bool = False) -> Module:
    """Load a module from an HLO text file or a serialized HloModuleProto (`.pb`)."""
    from pathlib import Path
    if isinstance(path, str) and is_hlo_text(path):
        raise FileNotFoundError(f"load_hlo reads a file, and this is HLO text ({path.lstrip()[:40]!r}...): "
                                "use hloenv.parse_hlo(text)")
    path = Path(path)
    name = source_name or str(path)
    data = path.read_bytes()
    if path.suffix == ".pb":
        return parse_hlo(_proto_to_text(data, name), name, allow_elided=allow_elided)
    return parse_hlo(data, name, allow_elided=allow_elided)


def _proto_to_text(data: bytes, name: str) -> str:
    try:
        from jaxlib import _hlo
        module = _hlo.HloModule.from_serialized_hlo_module_proto(data)
        options = _hlo.HloPrintOptions.short_parsable()
        options.print_large_constants = True
        return module.to_string(options)
    except Exception as err:  # jaxlib raises its own error types
        raise HloParseError(f"not a valid HloModuleProto: {str(err).splitlines()[0][:200]}", source=name) from None
