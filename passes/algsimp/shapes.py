"""Shape-manipulation rules: no-op removal and composition of broadcast, reshape, transpose,
slice, pad, reverse, concatenate, convert, copy, dynamic slices, iota and tuples."""

from __future__ import annotations

from hloenv.altgraph import attributes as A
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.shape import Shape
from hloenv.passes.algsimp.literals import NUMPY_TYPES, constant_array
from hloenv.passes.algsimp.util import Rule, broadcast, filled, ints_text, shape_like, slice_text
from hloenv.passes.rewriter import Rewriter


class BroadcastNoop(Rule):
    """broadcast that keeps the operand's dims in order => the operand.

        r = f32[2,3] broadcast(x: f32[2,3]), dimensions={0,1}     =>  x
    """
    name = "broadcast-noop"
    opcodes = frozenset({"broadcast"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.shape.dims != inst.shape.dims:
            return False
        return A.int_list(inst) == tuple(range(op.shape.rank)) and self.replace(inst, op, rewriter)


class BroadcastBroadcast(Rule):
    """broadcast(broadcast(A, d1), d2) => broadcast(A, d2 o d1).

        b = f32[3,4] broadcast(x: f32[3]), dimensions={0}
        r = f32[2,3,4] broadcast(b), dimensions={1,2}   =>  f32[2,3,4] broadcast(x), dimensions={1}
    """
    name = "broadcast-broadcast"
    opcodes = frozenset({"broadcast"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "broadcast":
            return False
        outer, inner = A.int_list(inst), A.int_list(op)
        dims = tuple(outer[d] for d in inner)
        new = broadcast(rewriter, inst.parent, op.operands[0], inst.shape, dims)  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class ReshapeNoop(Rule):
    """reshape to the operand's own dims => the operand.

        r = f32[2,3] reshape(x: f32[2,3])      =>  x
    """
    name = "reshape-noop"
    opcodes = frozenset({"reshape"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        return op.shape.dims == inst.shape.dims and self.replace(inst, op, rewriter)


class ReshapeReshape(Rule):
    """reshape(reshape(A)) => reshape(A) (row-major reshapes compose); A itself if dims agree.

        a = f32[6] reshape(x: f32[2,3])    r = f32[3,2] reshape(a)   =>  f32[3,2] reshape(x)
    """
    name = "reshape-reshape"
    opcodes = frozenset({"reshape"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "reshape" or op.operands[0].shape.dynamic:
            return False
        src = op.operands[0]
        if src.shape.dims == inst.shape.dims:
            return self.replace(inst, src, rewriter)
        new = rewriter.create(inst.parent, "reshape", inst.shape, [src])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class _ShapeOpOfScalarBroadcast(Rule):
    """op(broadcast(scalar)) => broadcast(scalar) in op's shape."""

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "broadcast" or op.operands[0].shape.rank != 0 or not op.operands[0].shape.is_array:
            return False
        new = broadcast(rewriter, inst.parent, op.operands[0], inst.shape, ())  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class ReshapeScalarBroadcast(_ShapeOpOfScalarBroadcast):
    """reshape(broadcast(scalar)) => broadcast(scalar).

        b = f32[6] broadcast(c: f32[]), dimensions={}   r = f32[2,3] reshape(b)
        =>  f32[2,3] broadcast(c), dimensions={}
    """
    name = "reshape-scalar-broadcast"
    opcodes = frozenset({"reshape"})


class TransposeScalarBroadcast(_ShapeOpOfScalarBroadcast):
    """transpose/reverse(broadcast(scalar)) => broadcast(scalar).

        b = f32[2,3] broadcast(c: f32[]), dimensions={}   r = f32[3,2] transpose(b), dimensions={1,0}
        =>  f32[3,2] broadcast(c), dimensions={}
    """
    name = "transpose-scalar-broadcast"
    opcodes = frozenset({"transpose", "reverse"})


def degenerate_reshape_map(src: tuple[int, ...], dst: tuple[int, ...]) -> tuple[dict[int, int], list[int]] | None:
    """When a reshape from `src` to `dst` only inserts and deletes size-1 dims: (src dim -> dst dim
    for the dims it keeps, src dims it deletes); else None."""
    kept: dict[int, int] = {}
    deleted: list[int] = []
    i = j = 0
    while i < len(src) or j < len(dst):
        if i < len(src) and j < len(dst) and src[i] == dst[j]:
            kept[i] = j
            i, j = i + 1, j + 1
        elif i < len(src) and src[i] == 1:
            deleted.append(i)
            i += 1
        elif j < len(dst) and dst[j] == 1:
            j += 1
        else:
            return None
    return kept, deleted


class BroadcastDegenerateReshape(Rule):
    """broadcast(reshape(A)) => broadcast(A) when the reshape only inserts size-1 dims.

        a = f32[1,8] reshape(x: f32[8])    r = f32[4,1,8] broadcast(a), dimensions={1,2}
        =>  f32[4,1,8] broadcast(x), dimensions={2}
    """
    name = "broadcast-degenerate-reshape"
    opcodes = frozenset({"broadcast"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "reshape" or op.operands[0].shape.dynamic:
            return False
        src = op.operands[0]
        found = degenerate_reshape_map(src.shape.dims, op.shape.dims)
        if found is None or found[1]:
            return False
        dims = A.int_list(inst)
        new_dims = tuple(dims[found[0][k]] for k in range(src.shape.rank))
        new = broadcast(rewriter, inst.parent, src, inst.shape, new_dims)  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class ReshapeOfBroadcast(Rule):
    """reshape(broadcast(A)) => broadcast(A') when the reshape only inserts and deletes size-1 dims
    (A' = A without the size-1 dims the reshape deletes: a reshape of the smaller array).

        b = f32[1,8] broadcast(x: f32[1]), dimensions={0}    r = f32[8] reshape(b)
        =>  x' = f32[] reshape(x)     r' = f32[8] broadcast(x'), dimensions={}
    """
    name = "reshape-of-broadcast"
    opcodes = frozenset({"reshape"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "broadcast":
            return False
        src = op.operands[0]
        if not src.shape.is_array or src.shape.dynamic or src.shape.rank == 0:
            return False  # scalars: reshape-scalar-broadcast
        found = degenerate_reshape_map(op.shape.dims, inst.shape.dims)
        if found is None:
            return False
        kept = found[0]
        dims = A.int_list(op)
        keep = [k for k, d in enumerate(dims) if d in kept]
        comp = inst.parent
        if len(keep) != len(dims):
            src = rewriter.create(comp, "reshape", Shape(src.shape.dtype, tuple(src.shape.dims[k] for k in keep)), [src])  # type: ignore[arg-type]
        new = broadcast(rewriter, comp, src, inst.shape, tuple(kept[dims[k]] for k in keep))  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class TransposeNoop(Rule):
    """transpose with the identity permutation => the operand.

        r = f32[2,3] transpose(x), dimensions={0,1}     =>  x
    """
    name = "transpose-noop"
    opcodes = frozenset({"transpose"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        perm = A.int_list(inst)
        return perm == tuple(range(len(perm))) and self.replace(inst, inst.operands[0], rewriter)


class TransposeTranspose(Rule):
    """transpose(transpose(A, p1), p2) => transpose(A, p1 o p2); A when that is the identity.

        t = f32[3,2] transpose(x: f32[2,3]), dimensions={1,0}
        r = f32[2,3] transpose(t), dimensions={1,0}     =>  x
    """
    name = "transpose-transpose"
    opcodes = frozenset({"transpose"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "transpose":
            return False
        p1, p2 = A.int_list(op), A.int_list(inst)
        perm = tuple(p1[d] for d in p2)
        src = op.operands[0]
        if perm == tuple(range(len(perm))):
            return self.replace(inst, src, rewriter)
        new = rewriter.create(inst.parent, "transpose", inst.shape, [src], {"dimensions": ints_text(perm)})  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class TransposeDegenerate(Rule):
    """transpose that only moves size-1 dims (the others keep their order) => reshape.

        r = f32[3,1,2] transpose(x: f32[1,3,2]), dimensions={1,0,2}   =>  f32[3,1,2] reshape(x)
    """
    name = "transpose-degenerate-to-reshape"
    opcodes = frozenset({"transpose"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        perm = A.int_list(inst)
        dims = inst.operands[0].shape.dims
        moved = [p for p in perm if dims[p] != 1]
        if perm == tuple(range(len(perm))) or moved != sorted(moved):
            return False
        new = rewriter.create(inst.parent, "reshape", inst.shape, [inst.operands[0]])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class SliceNoop(Rule):
    """slice that keeps every element => the operand.

        r = f32[2,3] slice(x: f32[2,3]), slice={[0:2], [0:3]}   =>  x
    """
    name = "slice-noop"
    opcodes = frozenset({"slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        return op.shape.dims == inst.shape.dims and self.replace(inst, op, rewriter)


def _compose_slices(outer, inner) -> tuple[tuple[int, int, int], ...]:
    """slice(slice(A, inner), outer) as one slice of A."""
    out = []
    for (s2, l2, st2), (s1, _l1, st1) in zip(outer, inner):
        n = max(0, (l2 - s2 + st2 - 1) // st2)
        start = s1 + s2 * st1
        stride = st1 * st2
        limit = start + (n - 1) * stride + 1 if n else start
        out.append((start, limit, stride if n > 1 else 1))
    return tuple(out)


class SliceSlice(Rule):
    """slice(slice(A)) => slice(A).

        a = f32[6] slice(x: f32[10]), slice={[2:8]}    r = f32[2] slice(a), slice={[1:5:2]}
        =>  f32[2] slice(x), slice={[3:6:2]}
    """
    name = "slice-slice"
    opcodes = frozenset({"slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "slice":
            return False
        spec = _compose_slices(A.slice_spec(inst), A.slice_spec(op))
        new = rewriter.create(inst.parent, "slice", inst.shape, [op.operands[0]], {"slice": slice_text(spec)})  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class SliceBroadcast(Rule):
    """slice(broadcast(A)) => broadcast(slice(A)) (just broadcast(A) when A is kept whole).

        b = f32[4,8] broadcast(x: f32[8]), dimensions={1}    r = f32[2,8] slice(b), slice={[0:2], [0:8]}
        =>  f32[2,8] broadcast(x), dimensions={1}
    """
    name = "slice-broadcast"
    opcodes = frozenset({"slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "broadcast":
            return False
        src = op.operands[0]
        if not src.shape.is_array or src.shape.dynamic:
            return False
        dims = A.int_list(op)
        spec = A.slice_spec(inst)
        comp = inst.parent
        src_spec = tuple(spec[d] for d in dims)
        if any(not (s.start == 0 and s.limit == n and s.stride == 1) for s, n in zip(src_spec, src.shape.dims)):
            src_dims = tuple(inst.shape.dims[d] for d in dims)
            src = rewriter.create(comp, "slice", Shape(src.shape.dtype, src_dims), [src],  # type: ignore[arg-type]
                                  {"slice": slice_text(src_spec)})
        new = broadcast(rewriter, comp, src, inst.shape, dims)  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class SliceConcatenate(Rule):
    """slice(concatenate(A, B, ...)) that lies within one operand => slice of that operand.

        c = f32[6] concatenate(a: f32[2], b: f32[4]), dimensions={0}
        r = f32[2] slice(c), slice={[3:5]}      =>  f32[2] slice(b), slice={[1:3]}
    """
    name = "slice-concatenate"
    opcodes = frozenset({"slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "concatenate":
            return False
        axis = A.int_list(op)[0]
        spec = list(A.slice_spec(inst))
        start, limit, stride = spec[axis]
        offset = 0
        for part in op.operands:
            size = part.shape.dims[axis]
            if offset <= start and limit <= offset + size and size > 0:
                spec[axis] = (start - offset, limit - offset, stride)
                if part.shape.dims == inst.shape.dims:
                    return self.replace(inst, part, rewriter)
                new = rewriter.create(inst.parent, "slice", inst.shape, [part], {"slice": slice_text(spec)})  # type: ignore[arg-type]
                return self.replace(inst, new, rewriter)
            offset += size
        return False


class PadNoop(Rule):
    """pad with zero low, high and interior padding => the operand.

        r = f32[2,3] pad(x, c), padding=0_0x0_0      =>  x
    """
    name = "pad-noop"
    opcodes = frozenset({"pad"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if any(p != (0, 0, 0) for p in A.padding_config(inst)):
            return False
        return self.replace(inst, inst.operands[0], rewriter)


class ReverseNoop(Rule):
    """reverse of no dims, or only of size-1 dims => the operand; reverse(reverse(A)) => A.

        r = f32[1,3] reverse(x), dimensions={0}      =>  x
    """
    name = "reverse-noop"
    opcodes = frozenset({"reverse"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        dims = A.int_list(inst)
        if all(op.shape.dims[d] <= 1 for d in dims):
            return self.replace(inst, op, rewriter)
        if op.opcode == "reverse" and sorted(A.int_list(op)) == sorted(dims):
            return self.replace(inst, op.operands[0], rewriter)
        return False


class ConcatenateSingle(Rule):
    """concatenate of one operand => the operand.

        r = f32[4] concatenate(x), dimensions={0}    =>  x
    """
    name = "concatenate-single"
    opcodes = frozenset({"concatenate"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        return len(inst.operands) == 1 and self.replace(inst, inst.operands[0], rewriter)


class ConcatenateDropEmpty(Rule):
    """concatenate(A, empty, B) => concatenate(A, B) (A alone when it is the only one left).

        r = f32[4] concatenate(x: f32[4], e: f32[0]), dimensions={0}     =>  x
    """
    name = "concatenate-drop-empty"
    opcodes = frozenset({"concatenate"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        axis = A.int_list(inst)[0]
        keep = [op for op in inst.operands if op.shape.dims[axis] != 0]
        if len(keep) == len(inst.operands) or not keep:
            return False
        if len(keep) == 1:
            return self.replace(inst, keep[0], rewriter)
        new = rewriter.create(inst.parent, "concatenate", inst.shape, keep, {"dimensions": ints_text([axis])})  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class ConcatenateSlices(Rule):
    """concatenate(slice(A)[a:b], slice(A)[b:c]) => slice(A)[a:c] (adjacent unit-stride slices).

        s1 = f32[2] slice(x: f32[8]), slice={[0:2]}     s2 = f32[3] slice(x), slice={[2:5]}
        r = f32[5] concatenate(s1, s2), dimensions={0}  =>  f32[5] slice(x), slice={[0:5]}
    """
    name = "concatenate-slices"
    opcodes = frozenset({"concatenate"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        axis = A.int_list(inst)[0]
        groups: list[list[Instruction]] = []
        merged = False
        for op in inst.operands:
            prev = groups[-1] if groups else None
            if prev is not None and self._adjacent(prev[-1], op, axis):
                prev.append(op)
                merged = True
            else:
                groups.append([op])
        if not merged:
            return False
        comp = inst.parent
        parts = []
        for group in groups:
            if len(group) == 1:
                parts.append(group[0])
                continue
            first, last = A.slice_spec(group[0]), A.slice_spec(group[-1])
            spec = [tuple(s) for s in first]
            spec[axis] = (first[axis].start, last[axis].limit, 1)
            dims = list(group[0].shape.dims)
            dims[axis] = sum(g.shape.dims[axis] for g in group)
            shape = shape_like(inst, tuple(dims))
            parts.append(rewriter.create(comp, "slice", shape, [group[0].operands[0]], {"slice": slice_text(spec)}))  # type: ignore[arg-type]
        if len(parts) == 1:
            return self.replace(inst, parts[0], rewriter)
        new = rewriter.create(comp, "concatenate", inst.shape, parts, {"dimensions": ints_text([axis])})  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)

    @staticmethod
    def _adjacent(a: Instruction, b: Instruction, axis: int) -> bool:
        if a.opcode != "slice" or b.opcode != "slice" or a.operands[0] is not b.operands[0]:
            return False
        sa, sb = A.slice_spec(a), A.slice_spec(b)
        if sa[axis].stride != 1 or sb[axis].stride != 1 or sa[axis].limit != sb[axis].start:
            return False
        return all(x == y for k, (x, y) in enumerate(zip(sa, sb)) if k != axis)


class ConvertNoop(Rule):
    """convert to the operand's own element type => the operand.

        r = f32[4] convert(x: f32[4])      =>  x
    """
    name = "convert-noop"
    opcodes = frozenset({"convert"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        return op.shape.dtype == inst.shape.dtype and self.replace(inst, op, rewriter)


_INT_BITS = {"s8": 7, "s16": 15, "s32": 31, "s64": 63, "u8": 8, "u16": 16, "u32": 32, "u64": 64}
_MANTISSA = {"f16": 11, "bf16": 8, "f32": 24, "f64": 53}
_EXPONENT = {"f16": 5, "bf16": 8, "f32": 8, "f64": 11}


def cast_preserves_values(src: str, dst: str) -> bool:
    """Does converting every `src` value to `dst` keep it exactly (so converting back is a no-op)?"""
    if src == dst or src == "pred":
        return True
    if src in _MANTISSA and dst in _MANTISSA:
        return _MANTISSA[dst] >= _MANTISSA[src] and _EXPONENT[dst] >= _EXPONENT[src]
    if src in _INT_BITS and dst in _INT_BITS:
        if src[0] == "s" and dst[0] == "u":
            return False
        return _INT_BITS[dst] >= _INT_BITS[src]
    if src in _INT_BITS and dst in _MANTISSA:
        return _MANTISSA[dst] >= _INT_BITS[src]
    return False


class ConvertConvert(Rule):
    """convert(convert(A: T1) -> T2) -> T1 => A when T2 holds every T1 value exactly.

        w = f32[4] convert(x: bf16[4])     r = bf16[4] convert(w)     =>  x
    """
    name = "convert-convert"
    opcodes = frozenset({"convert"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "convert":
            return False
        src = op.operands[0]
        if src.shape.dtype != inst.shape.dtype or not cast_preserves_values(src.shape.dtype, op.shape.dtype):
            return False
        return self.replace(inst, src, rewriter)


class CopyNoop(Rule):
    """copy => its operand (layouts are not assigned yet, so a copy changes nothing).

        r = f32[2,3]{0,1} copy(x: f32[2,3]{1,0})      =>  x
    """
    name = "copy-noop"
    opcodes = frozenset({"copy"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        return self.replace(inst, inst.operands[0], rewriter)


def _constant_indices(inst: Instruction, first: int, rank: int) -> list[int] | None:
    """Start indices given as constants (scalars, or one vector in the 2022 syntax). None also for
    an unsigned start with its top bit set: XLA's unfused dynamic slices read it as negative (u8
    255 clamps to 0) and its fused ones as it is (255 clamps to the last start), so no rewrite of
    it can agree with both."""
    ops = inst.operands[first:]
    values: list[int] = []
    for op in ops:
        arr = constant_array(op)
        if arr is None or arr.dtype.kind not in "iu":
            return None
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) >> (8 * arr.dtype.itemsize - 1):
            return None
        values.extend(int(v) for v in arr.reshape(-1))
    return values if len(values) == rank else None


class DynamicSliceConstant(Rule):
    """dynamic-slice with constant start indices => slice (indices clamped as XLA clamps them).

        i = s32[] constant(1)    r = f32[2] dynamic-slice(x: f32[4], i), dynamic_slice_sizes={2}
        =>  f32[2] slice(x), slice={[1:3]}
    """
    name = "dynamic-slice-constant"
    opcodes = frozenset({"dynamic-slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        starts = _constant_indices(inst, 1, op.shape.rank)
        if starts is None:
            return False
        sizes = inst.shape.dims
        spec = []
        for start, size, dim in zip(starts, sizes, op.shape.dims):
            s = min(max(start, 0), dim - size)
            spec.append((s, s + size, 1))
        new = rewriter.create(inst.parent, "slice", inst.shape, [op], {"slice": slice_text(spec)})  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class DynamicUpdateSliceFull(Rule):
    """dynamic-update-slice whose update covers the whole operand => the update.

        r = f32[4] dynamic-update-slice(x: f32[4], u: f32[4], i)    =>  u
    """
    name = "dynamic-update-slice-full"
    opcodes = frozenset({"dynamic-update-slice"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        update = inst.operands[1]
        return update.shape.dims == inst.shape.dims and self.replace(inst, update, rewriter)


class IotaDegenerate(Rule):
    """iota along a size-1 dimension => zeros.

        r = s32[1,4] iota(), iota_dimension=0     =>  s32[1,4] broadcast(s32[] constant(0)), dimensions={}
    """
    name = "iota-degenerate"
    opcodes = frozenset({"iota"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        d = A.int_attr(inst, "iota_dimension")
        if inst.shape.dims[d] != 1 or inst.shape.dtype not in NUMPY_TYPES:
            return False
        return self.replace(inst, filled(rewriter, inst, 0), rewriter)


class GetTupleElementOfTuple(Rule):
    """get-tuple-element(tuple(A, B), 1) => B.

        t = (f32[2], s32[]) tuple(a, b)    r = s32[] get-tuple-element(t), index=1    =>  b
    """
    name = "get-tuple-element-of-tuple"
    opcodes = frozenset({"get-tuple-element"})

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if op.opcode != "tuple":
            return False
        index = A.int_attr(inst, "index")
        if not 0 <= index < len(op.operands):
            return False
        new = op.operands[index]
        if new.shape.key_without_layout() != inst.shape.key_without_layout():
            return False
        return rewriter.replace(inst, new, rule=self.name)


RULES: tuple[Rule, ...] = (
    BroadcastNoop(), BroadcastBroadcast(), BroadcastDegenerateReshape(), ReshapeNoop(), ReshapeReshape(),
    ReshapeScalarBroadcast(), ReshapeOfBroadcast(), TransposeScalarBroadcast(), TransposeNoop(), TransposeTranspose(), TransposeDegenerate(), SliceNoop(),
    SliceSlice(), SliceBroadcast(), SliceConcatenate(), PadNoop(), ReverseNoop(), ConcatenateSingle(),
    ConcatenateDropEmpty(), ConcatenateSlices(), ConvertNoop(), ConvertConvert(), CopyNoop(),
    DynamicSliceConstant(), DynamicUpdateSliceFull(), IotaDegenerate(), GetTupleElementOfTuple(),
)
