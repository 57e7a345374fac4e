"""exconnect.native — compiled extension types over the C core.

Cython users: `from exconnect.native.order_book cimport OrderBook` (see the .pxd files).
"""

import os as _os


def get_include() -> str:
    """Directory with the C headers (fixed.h, book.h, order.h, ...) that the .pxd files reference.

    Third-party Cython extensions that `cimport exconnect.native...` add it to include_dirs:
        Extension(..., include_dirs=[exconnect.native.get_include()])
    """
    here = _os.path.dirname(_os.path.abspath(__file__))
    installed = _os.path.join(here, "include")
    if _os.path.isdir(installed):
        return installed
    return _os.path.join(_os.path.dirname(here), "core")          # editable install / source tree


def get_pxd_include() -> str:
    """Directory to put on Cython's include_path so `cimport exconnect.native.<module>` resolves.

    Installed from a wheel that is simply site-packages (the .pxd files sit in exconnect/native/);
    in an editable install the .pxd files live in bindings/, so setup.py stages build/pxd/ with an
    exconnect/native link to them (Cython resolves cimports by file layout, not import hooks).
    """
    here = _os.path.dirname(_os.path.abspath(__file__))
    parent = _os.path.dirname(_os.path.dirname(here))
    if _os.path.basename(here) == "native" and _os.path.isfile(_os.path.join(here, "order_book.pxd")):
        return parent
    return _os.path.join(_os.path.dirname(here), "build", "pxd")
