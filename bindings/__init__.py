"""exconnect.native — compiled extension types over the C core.

Cython users: `from exconnect.native.order_book cimport OrderBook` (see the .pxd files).
"""
