"""Small HLO modules and archive builders shared by the dataset tests."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

ADD = """HloModule add_mod
ENTRY main {
  a = f32[4]{0} parameter(0)
  b = f32[4]{0} parameter(1)
  ROOT s = f32[4]{0} add(a, b), metadata={op_name="jit(f)/add"}
}
"""
# The same program in the 2022 syntax, other names, no metadata: same fingerprint as ADD.
ADD_OLD_ERA = """HloModule other_name

ENTRY %entry (x: f32[4], y: f32[4]) -> f32[4] {
  %x = f32[4]{0} parameter(0)
  %y = f32[4]{0} parameter(1)
  ROOT %sum.7 = f32[4]{0} add(f32[4]{0} %x, f32[4]{0} %y)
}
"""
NEG = """HloModule neg_mod
ENTRY main {
  p = f32[8]{0} parameter(0)
  ROOT n = f32[8]{0} negate(p)
}
"""
MUL = """HloModule mul_mod
ENTRY main {
  p = f32[3,3]{1,0} parameter(0)
  ROOT m = f32[3,3]{1,0} multiply(p, p)
}
"""
GPU_ONLY = """HloModule gpu_only
ENTRY main {
  p = u32[2]{0} parameter(0)
  ROOT c = u32[2]{0} custom-call(p), custom_call_target="cuda_threefry2x32"
}
"""
CPU_ONLY = """HloModule cpu_only
ENTRY main {
  p = f32[3,3]{1,0} parameter(0)
  ROOT c = f32[3,3]{1,0} custom-call(p), custom_call_target="lapack_spotrf_ffi"
}
"""
ELIDED = """HloModule elided
ENTRY main {
  p = f32[100] parameter(0)
  c = f32[100] constant({...})
  ROOT s = f32[100] add(p, c)
}
"""
# What jaxlib 0.10.2's --xla_dump_hlo_as_text writes: stack-frame tables before the computations.
DUMP_TEXT = """HloModule jit_my_fn, entry_computation_layout={(f32[4,4]{1,0}, f32[4,4]{1,0})->f32[4,4]{1,0}}

FileNames
1 "/tmp/dscript.py"

FunctionNames
1 "<module>"
2 "my_fn"

FileLocations
1 {file_name_id=1 function_name_id=1 line=5 end_line=5 column=6 end_column=45}
2 {file_name_id=1 function_name_id=2 line=4 end_line=4 column=11 end_column=31}

StackFrames
1 {file_location_id=1 parent_frame_id=1}
2 {file_location_id=2 parent_frame_id=2}


ENTRY %main.1 (x.1: f32[4,4], y.1: f32[4,4]) -> f32[4,4] {
  %x.1 = f32[4,4]{1,0} parameter(0), metadata={op_name="x"}
  %sin.1 = f32[4,4]{1,0} sine(%x.1), metadata={op_name="jit(my_fn)/sin" stack_frame_id=2}
  %y.1 = f32[4,4]{1,0} parameter(1), metadata={op_name="y"}
  %dot_general.1 = f32[4,4]{1,0} dot(%sin.1, %y.1), lhs_contracting_dims={1}, rhs_contracting_dims={0}, metadata={op_name="jit(my_fn)/dot_general" stack_frame_id=2}
  %constant.1 = f32[] constant(1)
  %broadcast.1 = f32[4,4]{1,0} broadcast(%constant.1), dimensions={}
  ROOT %add.1 = f32[4,4]{1,0} add(%dot_general.1, %broadcast.1), metadata={op_name="jit(my_fn)/add" stack_frame_id=2}
}

"""


def module_proto(text: str) -> bytes:
    """A serialized HloModuleProto of ``text`` (through jaxlib)."""
    from jaxlib import _hlo
    return _hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()


def hlo_proto(text: str) -> bytes:
    """An HloProto wrapping the module (field 1), as --xla_dump_hlo_as_proto writes it."""
    inner = module_proto(text)
    n, length = len(inner), b""
    while True:
        byte = n & 0x7F
        n >>= 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return b"\x0a" + length + inner


def tar_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def file_info(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def link_info(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root
