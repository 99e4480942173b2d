"""The installed package: namespace mapping, light import, lazy XLA exports."""

import subprocess
import sys


def test_subpackages_live_in_the_hloenv_namespace():
    import hloenv.agents
    import hloenv.altgraph
    import hloenv.dataset
    import hloenv.passes
    assert hloenv.altgraph.parse_hlo is hloenv.parse_hlo
    assert all(m.__name__.startswith("hloenv.") for m in (hloenv.agents, hloenv.dataset, hloenv.passes))


def test_import_hloenv_does_not_import_heavy_dependencies():
    code = "import sys, hloenv; print(sorted(m for m in ('jax', 'jaxlib', 'torch', 'ray', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_making_an_env_does_not_import_jax_or_ml_dtypes():
    # ml_dtypes alone takes ~0.9 s to import; it loads when a bf16/f8 constant or input needs it
    code = ("import sys, hloenv; from tests.conftest import DATA; "
            "env = hloenv.HloEnv(DATA / 'transformer_block.hlo', reward=lambda b, a, t: 0.0); env.reset(seed=0); "
            "from hloenv.xla import inputs; "
            "print(sorted(m for m in ('jax', 'jaxlib', 'ml_dtypes') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_xla_names_are_exported_lazily():
    import hloenv
    from hloenv.xla import compare
    assert hloenv.compare is compare


def test_dir_lists_the_lazily_exported_names():
    # (tab completion uses dir(); HloEnv, evaluate, ... are served by a module __getattr__)
    code = "import sys, hloenv; names = dir(hloenv); print(sorted(set(hloenv.__all__) - set(names)), 'jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] False"  # (listing them imports nothing)


def test_pyproject_lists_every_package_folder():
    import tomllib
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    roots = {v: k for k, v in config["package-dir"].items()}
    found = set()
    for folder, package in roots.items():
        for init in (root / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(root / folder).parts
            found.add(".".join((package, *rel)))
    assert found <= listed, f"missing from pyproject packages: {sorted(found - listed)}"
