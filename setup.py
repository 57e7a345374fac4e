"""Build exconnect: Cython extension types in bindings/ over the C11 core in core/.

Every bindings/<name>.pyx becomes exconnect.native.<name>, compiled together with
all core/*.c (each unit is small, and linking them per extension keeps every
module self-contained: no shared library to locate at import time).

Developer knobs (environment variables):
  EXCONNECT_ONLY=a,b       build only these extensions (parallel work in one tree)
  EXCONNECT_SANITIZE=1     build with -fsanitize=address,undefined (tests/fuzz)
  EXCONNECT_NATIVE_ARCH=1  add -march=native (local benchmarking only)
"""
import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup
from setuptools.command.build_py import build_py as _build_py

HERE = os.path.dirname(os.path.abspath(__file__))
CORE_SOURCES = sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "core", "*.c")))

# -fno-semantic-interposition: calls between core/*.c and the Cython module inside one
# extension bind directly instead of through the PLT (replay bytes->book ~5% faster, same run)
cflags = ["-std=c11", "-O3", "-fno-semantic-interposition", "-Wall", "-Wno-unused-function", "-Wno-unreachable-code"]
ldflags = []
if os.environ.get("EXCONNECT_NATIVE_ARCH") == "1":
    cflags.append("-march=native")
if os.environ.get("EXCONNECT_SANITIZE") == "1":
    cflags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"]
    ldflags += ["-fsanitize=address,undefined"]

# Cython resolves `cimport exconnect.native.x` by directory layout, while the sources
# live in bindings/ (installed as exconnect.native).  Stage a tiny include tree of
# symlinks so the public cimport names work inside this build exactly as they do
# for third-party Cython code against an installed exconnect.
PXD_ROOT = os.path.join(HERE, "build", "pxd")
os.makedirs(os.path.join(PXD_ROOT, "exconnect"), exist_ok=True)
for marker in ("__init__.pxd",):
    open(os.path.join(PXD_ROOT, "exconnect", marker), "a").close()
_link = os.path.join(PXD_ROOT, "exconnect", "native")
if not os.path.islink(_link):
    os.symlink(os.path.join(HERE, "bindings"), _link)

only = {n.strip() for n in os.environ.get("EXCONNECT_ONLY", "").split(",") if n.strip()}

extensions = []
for pyx in sorted(glob.glob(os.path.join(HERE, "bindings", "*.pyx"))):
    name = os.path.splitext(os.path.basename(pyx))[0]
    if only and name not in only:
        continue
    extensions.append(
        Extension(
            f"exconnect.native.{name}",
            [os.path.relpath(pyx, HERE)] + CORE_SOURCES,
            include_dirs=["core", "bindings"],
            extra_compile_args=cflags,
            extra_link_args=ldflags,
        )
    )

class build_py(_build_py):
    """Also ship core/*.h as exconnect/native/include/, so third-party Cython that cimports our
    .pxd files compiles against an installed wheel (see exconnect.native.get_include())."""

    def run(self):
        super().run()
        dest = os.path.join(self.build_lib, "exconnect", "native", "include")
        os.makedirs(dest, exist_ok=True)
        for header in glob.glob(os.path.join(HERE, "core", "*.h")):
            self.copy_file(header, os.path.join(dest, os.path.basename(header)))


setup(
    cmdclass={"build_py": build_py},
    packages=find_packages("python") + ["exconnect.native"],
    package_dir={"exconnect": "python/exconnect", "exconnect.native": "bindings"},
    package_data={"exconnect.native": ["*.pxd", "*.pyi", "py.typed"], "exconnect": ["py.typed", "data/*"]},
    ext_modules=cythonize(
        extensions,
        language_level=3,
        include_path=[PXD_ROOT, "bindings"],
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
        nthreads=int(os.environ.get("EXCONNECT_BUILD_JOBS", "0")) or 0,
    ),
    zip_safe=False,
)
