"""Compiles hloenv's graph modules with Cython when it can (see hloenv/native.py); pyproject.toml
holds everything else. `HLOENV_NATIVE=0 pip install ...` skips compiling; without a C compiler
the extensions are skipped with a warning and the install is pure Python."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_hloenv_native", ROOT / "hloenv" / "native.py")
native = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(native)


class BuildNative(build_ext):
    """Builds the extensions, then records the sources of those that built in `_native.json`
    (next to hloenv/native.py, wherever the build puts the package)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1  # one C compiler per core

    def run(self) -> None:
        super().run()
        sources = native.compiled_modules(ROOT)
        built = {name: path for name, path in sources.items()
                 if os.path.exists(self.get_ext_fullpath(name))}
        text = json.dumps(native.manifest(built), indent=1) + "\n"
        for package_dir in {Path(self.build_lib) / "hloenv",
                            *([ROOT / "hloenv"] if self.inplace or getattr(self, "editable_mode", False) else [])}:
            package_dir.mkdir(parents=True, exist_ok=True)
            (package_dir / native.MANIFEST).write_text(text)


def extensions(names: list[str] | None = None, build_dir: str = "build/cython",
               nthreads: int = os.cpu_count() or 1) -> list:
    """The optional extension modules for `names` (default: every compiled module), C generated."""
    if not native.enabled():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    from setuptools import Extension
    sources = native.compiled_modules(ROOT)
    modules = [Extension(name, [str(sources[name].relative_to(ROOT))], optional=True)
               for name in (names if names is not None else sources)]
    built = cythonize(modules, build_dir=str(build_dir), quiet=True, nthreads=nthreads, force=True,
                      # annotations stay documentation: typed from them, `hit = cache.get(key)` with
                      # `cache: dict[..., bool]` became a C int, and `hit is not None` always held
                      compiler_directives={"language_level": 3, "binding": True, "annotation_typing": False})
    for ext in built:  # (cythonize makes new Extensions and drops `optional`)
        ext.optional = True
    return built


if __name__ == "__main__":  # (how pip's build backend runs this file; tests import it)
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildNative})
