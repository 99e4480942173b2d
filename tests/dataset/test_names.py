"""File-name parts made from user-given names."""

from __future__ import annotations

from hloenv.dataset.names import file_name_part


def test_unsafe_runs_become_one_underscore():
    assert file_name_part("path/to/mine.py:agent") == "path_to_mine.py_agent"
    assert file_name_part("a b\tc//d") == "a_b_c_d"
    assert file_name_part("jit_train-step.3") == "jit_train-step.3"


def test_never_a_dot_name_nor_a_hidden_file():
    assert file_name_part("..") == "_"
    assert file_name_part("./mine.py:a") == "_mine.py_a"
    assert file_name_part(".hidden.", empty="module") == "hidden"
    assert file_name_part("", empty="module") == "module"


def test_the_limit_cuts_and_leaves_no_trailing_dot():
    assert file_name_part("x" * 200, limit=120) == "x" * 120
    assert file_name_part("a" * 119 + ".b", limit=120) == "a" * 119
