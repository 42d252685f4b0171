"""How the wheel is tagged; everything else is in pyproject.toml.

The package is pure Python (ctypes), so any Python 3 runs it. A wheel that carries a copy of
libstoretasks in ``storetasks/`` (``make wheel`` puts one there) is tied to the platform that
library was built for, not to a Python version: it is tagged ``py3-none-<platform>`` (such as
``py3-none-linux_x86_64``, which ``make wheel`` then has auditwheel retag ``manylinux_2_X``) and
installs into platlib. Without a library in the folder, as in a plain checkout, the wheel stays
``py3-none-any``.
"""

from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel

PACKAGE = Path(__file__).resolve().parent / "storetasks"
#: The shared library's names on each system (the package data patterns of pyproject.toml).
LIBRARY_PATTERNS = ("*.so", "*.so.*", "*.dylib", "*.dll")


def carries_library():
    return any(path.is_file() for pattern in LIBRARY_PATTERNS for path in PACKAGE.glob(pattern))


class LibraryDistribution(Distribution):
    """A distribution with a native library counts as one with extension modules: bdist_wheel then
    marks the wheel not pure (Root-Is-Purelib: false) and the install step puts it in platlib."""

    def has_ext_modules(self):
        return carries_library()


class PlatformWheel(bdist_wheel):
    """The platform tag without a Python or ABI tag: the library is loaded through ctypes."""

    def get_tag(self):
        python, abi, platform = super().get_tag()
        return (python, abi, platform) if self.root_is_pure else ("py3", "none", platform)


setup(distclass=LibraryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
