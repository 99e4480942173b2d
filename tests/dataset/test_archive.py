"""Safe archives: traversal, absolute paths, links, special files and size limits are refused."""

from __future__ import annotations

import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from hloenv.dataset import ArchiveLimits, UnsafeArchiveError, iter_archive, load, safe_extract
from tests.dataset.helpers import ADD, NEG, file_info, link_info, tar_with, zip_with


def _refused(archive: Path, match: str, limits: ArchiveLimits | None = None) -> UnsafeArchiveError:
    with pytest.raises(UnsafeArchiveError, match=match) as info:
        list(iter_archive(archive, limits))
    return info.value


def test_path_traversal_is_refused_in_tar_and_zip(tmp_path):
    tar = tar_with(tmp_path / "t.tar", [(file_info("ok.hlo"), NEG.encode()),
                                        (file_info("sub/../../x.hlo"), ADD.encode())])
    err = _refused(tar, "traversal")
    assert err.member == "sub/../../x.hlo" and err.archive == str(tar)
    _refused(zip_with(tmp_path / "t.zip", {"../x.hlo": ADD}), "traversal")
    _refused(zip_with(tmp_path / "w.zip", {"..\\..\\x.hlo": ADD}), "traversal")


def test_absolute_paths_are_refused(tmp_path):
    _refused(tar_with(tmp_path / "a.tar", [(file_info("/tmp/evil.hlo"), ADD.encode())]), "absolute path")
    _refused(zip_with(tmp_path / "a.zip", {"/etc/evil.hlo": ADD}), "absolute path")


def test_links_outside_are_refused_and_links_inside_skipped(tmp_path):
    _refused(tar_with(tmp_path / "s1.tar", [(link_info("l.hlo", "../../etc/passwd"), None)]), "symlink points outside")
    _refused(tar_with(tmp_path / "s2.tar", [(link_info("l.hlo", "/etc/passwd"), None)]), "symlink to an absolute")
    _refused(tar_with(tmp_path / "s3.tar", [(link_info("d/l.hlo", "../../x"), None)]), "symlink points outside")
    _refused(tar_with(tmp_path / "h.tar", [(link_info("l.hlo", "../x.hlo", hard=True), None)]), "hard link")
    inside = tar_with(tmp_path / "ok.tar", [(file_info("d/a.hlo"), NEG.encode()),
                                            (link_info("d/l.hlo", "a.hlo"), None)])
    assert [name for name, _ in iter_archive(inside)] == ["d/a.hlo"]
    # A zip symlink (unix mode in the external attributes) pointing outside.
    zpath = tmp_path / "s.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        info = zipfile.ZipInfo("l.hlo")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../etc/passwd")
    _refused(zpath, "symlink points outside")


def test_special_files_are_refused(tmp_path):
    dev = file_info("dev.hlo")
    dev.type = tarfile.CHRTYPE
    _refused(tar_with(tmp_path / "d.tar", [(dev, None)]), "device, FIFO")


def test_huge_members_and_too_many_members_are_refused(tmp_path):
    big = tar_with(tmp_path / "big.tar.gz", [(file_info("big.hlo"), b"0" * 10_000)], "w:gz")
    _refused(big, "per-member limit", ArchiveLimits(max_member_bytes=4096))
    _refused(big, "total size", ArchiveLimits(max_member_bytes=1 << 20, max_total_bytes=5000))
    # A header claiming 8 GiB (no data behind it) is refused with the default limits, before reading.
    header = file_info("huge.hlo")
    header.size = 8 << 30
    crafted = tmp_path / "huge.tar"
    crafted.write_bytes(header.tobuf(format=tarfile.GNU_FORMAT))
    err = _refused(crafted, "per-member limit")
    assert err.member == "huge.hlo"
    many = tar_with(tmp_path / "many.tar", [(file_info(f"m{i}.hlo"), NEG.encode()) for i in range(5)])
    _refused(many, "more than 3 members", ArchiveLimits(max_members=3))
    zbig = zip_with(tmp_path / "big.zip", {"z.hlo": b"0" * 100_000})  # compresses to ~100 bytes
    _refused(zbig, "per-member limit", ArchiveLimits(max_member_bytes=50_000))


def test_load_refuses_a_malicious_archive_with_a_typed_error(tmp_path):
    evil = tar_with(tmp_path / "evil.tar.gz", [(file_info("ok.hlo"), NEG.encode()),
                                               (link_info("x.hlo", "/etc/shadow"), None)], "w:gz")
    with pytest.raises(UnsafeArchiveError) as info:
        load(evil)
    assert "x.hlo" in str(info.value) and "absolute" in str(info.value)


def test_safe_extract_writes_inside_the_destination_only(tmp_path):
    good = tar_with(tmp_path / "g.tar", [(file_info("a/b.hlo"), NEG.encode()), (file_info("c.hlo"), ADD.encode())])
    dest = tmp_path / "out"
    written = safe_extract(good, dest)
    assert sorted(p.relative_to(dest.resolve()).as_posix() for p in written) == ["a/b.hlo", "c.hlo"]
    assert (dest / "a/b.hlo").read_text() == NEG
    with pytest.raises(UnsafeArchiveError, match="overwrite"):
        safe_extract(good, dest)
    evil = tar_with(tmp_path / "e.tar", [(file_info("../../outside.hlo"), ADD.encode())])
    with pytest.raises(UnsafeArchiveError):
        safe_extract(evil, tmp_path / "out2")
    assert not (tmp_path / "outside.hlo").exists() and not (tmp_path.parent / "outside.hlo").exists()


def test_a_corrupt_archive_is_a_dataset_error(tmp_path):
    from hloenv.dataset import DatasetError
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetError, match="cannot read archive"):
        list(iter_archive(bad))


def test_a_tar_cut_short_between_or_inside_headers_is_an_error_not_fewer_modules(tmp_path):
    """`tarfile` stops without a word at a header that is cut short or missing: the members after
    it were silently left out of the dataset."""
    from hloenv.dataset import DatasetError
    whole = tar_with(tmp_path / "whole.tar", [(file_info("a.hlo"), ADD.encode()), (file_info("b.hlo"), NEG.encode())])
    data = whole.read_bytes()
    assert [name for name, _ in iter_archive(whole)] == ["a.hlo", "b.hlo"]
    first_end = 512 + -(-len(ADD.encode()) // 512) * 512  # a's header and its padded data
    for cut in (first_end, first_end + 100):  # at b's header, inside it
        partial = tmp_path / f"cut{cut}.tar"
        partial.write_bytes(data[:cut])
        with pytest.raises(DatasetError, match="cut short after 1 member"):
            list(iter_archive(partial))
        nested = tmp_path / f"in{cut}"
        nested.mkdir()
        partial.rename(nested / "partial.tar")
        problems = load(nested).problems
        assert [p.kind for p in problems] == ["read_error"] and "cut short" in problems[0].message
