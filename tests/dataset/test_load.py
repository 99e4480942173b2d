"""hloenv.dataset.load: folders, archives, protos, dedupe, tags, problems, splits."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

import hloenv
from hloenv.dataset import Dataset, UnsafeArchiveError, default, load, split_of
from hloenv.dataset.reader import clean_dump_text, module_stem
from tests.dataset.helpers import (ADD, ADD_OLD_ERA, CPU_ONLY, DUMP_TEXT, ELIDED, GPU_ONLY, MUL, NEG,
                                   file_info, hlo_proto, module_proto, tar_with, write_tree, zip_with)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "ds", {
        "a/add.hlo": ADD,
        "a/b/add_again.hlo.txt": ADD_OLD_ERA,  # duplicate of add.hlo by fingerprint
        "neg.txt": NEG,
        "deep/x/y/mul.pb": module_proto(MUL),
        "dump/module_0004.jit_my_fn.before_optimizations.txt": DUMP_TEXT,
        "gpu.hlo": GPU_ONLY,
        "cpu.hlo": CPU_ONLY,
        "broken.hlo": "HloModule m\nENTRY e {\n  ROOT r = f32[4] frobnicate()\n}\n",
        "elided.hlo": ELIDED,
        "notes.md": "not an HLO file: ignored",
        "script.py": "print('ignored')",
    })


def test_folder_is_loaded_recursively_with_dedupe_and_problems(tree):
    ds = load(tree)
    assert isinstance(ds, Dataset)
    assert sorted(ds.names()) == ["a/add", "cpu", "deep/x/y/mul", "dump/module_0004.jit_my_fn", "gpu", "neg"]
    add = ds["a/add"]
    assert add.duplicates == [str(tree / "a/b/add_again.hlo.txt")]
    assert ds.duplicate_count() == 1
    kinds = {Path(p.source).name: p.kind for p in ds.problems}
    assert kinds == {"broken.hlo": "parse_error", "elided.hlo": "elided_constants"}
    message = next(p.message for p in ds.problems if p.kind == "parse_error")
    assert "frobnicate" in message and message.startswith("line 3, col ")  # (the position was dropped)
    assert len({e.fingerprint for e in ds}) == len(ds)
    report = ds.report()
    assert "6 modules" in report and "1 duplicates dropped" in report
    assert "SKIPPED" in report and "elided_constants" in report


def test_tags_size_histogram_and_backends(tree):
    ds = load(tree)
    assert ds["gpu"].backends == ("gpu",) and not ds["gpu"].runs_on("cpu")
    assert ds["gpu"].tags["custom_call_targets"] == ("cuda_threefry2x32",)
    assert ds["gpu"].tags["unsupported"] == {"cpu": ("cuda_threefry2x32",)}
    assert ds["cpu"].backends == ("cpu",)
    assert ds["neg"].backends == ("cpu", "gpu")
    assert ds["neg"].tags["opcodes"] == {"negate": 1, "parameter": 1}
    assert ds["neg"].instructions == 2 and ds["neg"].tags["size"] == "small"
    assert [e.name for e in ds.filter(backend="cpu")] == [n for n in ds.names() if n != "gpu"]
    assert len(ds.filter(max_instructions=2)) == len([e for e in ds if e.instructions <= 2])
    assert ds.filter(min_instructions=3).names() == [e.name for e in ds if e.instructions >= 3]
    with pytest.raises(ValueError, match="min_instructions"):
        ds.filter(min_instructions=-1)


def test_proto_and_hlo_proto_and_dump_text_load_to_the_text_fingerprint(tmp_path):
    write_tree(tmp_path, {"m.pb": module_proto(MUL), "wrapped.hlo.pb": hlo_proto(NEG),
                          "garbage.pb": b"\x00\x01not a proto"})
    ds = load(tmp_path)
    assert ds["m"].fingerprint == hloenv.parse_hlo(MUL).fingerprint()
    assert ds["wrapped"].fingerprint == hloenv.parse_hlo(NEG).fingerprint()
    assert [(Path(p.source).name, p.kind) for p in ds.problems] == [("garbage.pb", "parse_error")]
    cleaned = clean_dump_text(DUMP_TEXT)
    assert "FileNames" not in cleaned and "stack_frame_id" not in cleaned
    assert hloenv.parse_hlo(cleaned).opcode_histogram()["dot"] == 1


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".zip", None)])
def test_archives_load_like_the_folder(tree, tmp_path, suffix, mode):
    files = {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}
    archive = tmp_path / f"ds{suffix}"
    if mode is None:
        zip_with(archive, files)
    else:
        tar_with(archive, [(file_info(name), data) for name, data in files.items()], mode)
    from_archive, from_folder = load(archive), load(tree)
    assert from_archive.names() == from_folder.names()
    assert [e.fingerprint for e in from_archive] == [e.fingerprint for e in from_folder]
    assert from_archive["a/add"].source == f"{archive}!a/add.hlo"
    assert {p.kind for p in from_archive.problems} == {"parse_error", "elided_constants"}


def test_archives_in_folders_are_named_by_their_whole_path(tmp_path):
    """Names were cut at the first dot of the relative path: v1.2/train.tar and v1.3/test.tar
    both became v1/..., and one module was renamed m#2."""
    for folder, archive, text in (("v1.2", "train.tar", ADD), ("v1.3", "test.tar.gz", MUL)):
        (tmp_path / folder).mkdir()
        tar_with(tmp_path / folder / archive, [(file_info("m.hlo"), text.encode())], "w:gz" if "gz" in archive else "w")
    zip_with(tmp_path / "my.models.zip", {"n.hlo": NEG.encode()})
    assert sorted(load(tmp_path).names()) == ["my.models/n", "v1.2/train/m", "v1.3/test/m"]


def test_unsafe_archive_inside_a_folder_is_a_problem_not_a_crash(tmp_path):
    write_tree(tmp_path, {"neg.hlo": NEG})
    tar_with(tmp_path / "evil.tar", [(file_info("../escape.hlo"), ADD.encode())])
    ds = load(tmp_path)
    assert ds.names() == ["neg"]
    assert [p.kind for p in ds.problems] == ["unsafe_archive"]
    with pytest.raises(UnsafeArchiveError, match="traversal"):
        load(tmp_path / "evil.tar")


def test_strip_metadata_removes_metadata_and_keeps_the_fingerprint(tmp_path):
    write_tree(tmp_path, {"add.hlo": ADD})
    kept, stripped = load(tmp_path), load(tmp_path, strip_metadata=True)
    assert "metadata" in kept["add"].text()
    assert "metadata" not in stripped["add"].text()
    assert kept["add"].fingerprint == stripped["add"].fingerprint


def test_splits_are_deterministic_and_depend_only_on_fingerprint_and_seed(tree):
    ds = load(tree)
    a, b = ds.split(0.5, seed=3), load(tree).split(0.5, seed=3)
    assert a.train.names() == b.train.names() and a.test.names() == b.test.names()
    assert sorted(a.train.names() + a.test.names()) == sorted(ds.names())
    # A module's side does not depend on the rest of the dataset.
    sub = ds.filter(lambda e: e.name != "neg").split(0.5, seed=3)
    assert set(sub.test.names()) == set(a.test.names()) - {"neg"}
    fakes = [f"{i:032x}" for i in range(4000)]
    share = sum(split_of(f, 0.2, seed=0) == "test" for f in fakes) / len(fakes)
    assert 0.17 < share < 0.23
    other_seed = [split_of(f, 0.2, seed=1) for f in fakes]
    assert other_seed != [split_of(f, 0.2, seed=0) for f in fakes]
    assert all(split_of(f, 0.0) == "train" for f in fakes[:50])
    assert all(split_of(f, 1.0) == "test" for f in fakes[:50])
    with pytest.raises(ValueError):
        split_of("00", 1.5)


def test_split_and_filter_settings_of_the_wrong_kind_are_refused():
    """Each was taken: the seed is hashed as text, so 1, 1.0 and True gave three different splits
    and None or "abc" were seeds; True was a test fraction of 1; an unknown backend kept nothing."""
    ds = default()
    for seed in (1.0, True, None, "abc", [1]):
        with pytest.raises(TypeError, match="seed must be an int"):
            ds.split(0.5, seed=seed)
    for fraction in (True, "0.2", None):
        with pytest.raises(TypeError, match="test_fraction must be a number"):
            ds.split(fraction)
    with pytest.raises(ValueError, match="test_fraction must be in \\[0, 1\\]"):
        Dataset([]).split(-0.1)  # (an empty dataset checks its settings too)
    with pytest.raises(TypeError, match="fingerprint must be a str"):
        split_of(None)
    assert split_of("ab", 0.5, seed=np.int64(3)) == split_of("ab", 0.5, seed=3)
    for backend in ("tpu", "CPU"):
        with pytest.raises(ValueError, match=f"unknown backend '{backend}'; known: cpu, gpu"):
            ds.filter(backend=backend)
    with pytest.raises(TypeError, match="max_instructions must be an int"):
        ds.filter(max_instructions="100")
    with pytest.raises(TypeError, match="predicate must be callable"):
        ds.filter("mlp")
    assert len(ds.filter(backend="cpu", max_instructions=10**6)) == len(ds)


def test_load_refuses_settings_it_would_misread(tmp_path):
    """load("") loaded the working folder; strip_metadata="no" stripped; limits=5 failed deep in
    the archive reader; negative limits were accepted."""
    from hloenv.dataset import ArchiveLimits
    with pytest.raises(ValueError, match="path is empty"):
        load("")
    with pytest.raises(TypeError, match="strip_metadata must be True or False, not 'no'"):
        load(tmp_path, strip_metadata="no")
    with pytest.raises(TypeError, match="limits must be an ArchiveLimits or None, not 5"):
        load(tmp_path, limits=5)
    with pytest.raises(TypeError, match="path must be a folder, archive or file path, not None"):
        load(None)
    with pytest.raises(ValueError, match="ArchiveLimits.max_members must be at least 1, not -1"):
        ArchiveLimits(max_members=-1)


def test_default_dataset_is_the_bundled_modules():
    ds = default()
    assert ds.names() == ["convnet_forward", "mlp_train_step", "rng_dropout", "scan_rnn", "transformer_block"]
    assert not ds.problems and all(e.backends == ("cpu", "gpu") for e in ds)


def test_missing_path_and_single_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope")
    path = write_tree(tmp_path, {"one.hlo.txt": NEG}) / "one.hlo.txt"
    assert load(path).names() == ["one"]
    assert module_stem("x/module_1.jit_f.before_optimizations.txt") == "x/module_1.jit_f"


def test_unreadable_bytes_are_reported(tmp_path):
    write_tree(tmp_path, {"latin.txt": b"HloModule \xff\xfe", "empty.hlo": ""})
    ds = load(tmp_path)
    assert len(ds) == 0 and {p.kind for p in ds.problems} == {"parse_error"}
    assert any("UTF-8" in p.message for p in ds.problems)


def test_a_dataset_made_from_entries_keeps_each_module_once_and_refuses_a_name_twice():
    """(two identical from_jax entries were two rows of the bench, and the geomean counted both)"""
    from hloenv.dataset.dataset import Entry
    from hloenv.dataset.tags import module_tags
    a = hloenv.parse_hlo(NEG)
    first = Entry("neg", "jax:neg", a, a.fingerprint(), module_tags(a))
    again = Entry("neg_again", "jax:neg_again", a.clone(), a.fingerprint(), module_tags(a))
    ds = Dataset([first, again])
    assert ds.names() == ["neg"] and ds["neg"].duplicates == ["jax:neg_again"] and first.duplicates == []
    b = hloenv.parse_hlo(MUL)
    with pytest.raises(ValueError, match="two different modules are named 'neg'"):
        Dataset([first, Entry("neg", "jax:other", b, b.fingerprint(), module_tags(b))])


def test_an_xla_dump_folder_loads_as_its_unoptimized_modules(tmp_path):
    """(its optimized modules were mixed in, and buffer assignments were parse_error problems)"""
    (tmp_path / "module_0000.jit_neg.before_optimizations.txt").write_text(NEG)
    (tmp_path / "module_0000.jit_neg.cpu_after_optimizations.txt").write_text(MUL)
    (tmp_path / "module_0000.jit_neg.cpu_after_optimizations-buffer-assignment.txt").write_text("BufferAssignment:\n")
    (tmp_path / "module_0000.jit_neg.cpu_after_optimizations-memory-usage-report.txt").write_text("Total bytes\n")
    ds = load(tmp_path)
    assert len(ds) == 1 and not ds.problems and ds.entries[0].fingerprint == hloenv.parse_hlo(NEG).fingerprint()


def test_a_folders_readme_is_skipped_as_not_hlo_not_a_parse_error(tmp_path):
    (tmp_path / "README.txt").write_text("These modules come from ...\n")
    (tmp_path / "add.txt").write_text(ADD)
    data = load(tmp_path)
    assert len(data) == 1
    assert [(Path(p.source).name, p.kind) for p in data.problems] == [("README.txt", "not_hlo")]
