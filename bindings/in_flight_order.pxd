# Public layout of exconnect.native.in_flight_order.InFlightOrder for Cython strategies.
from exconnect.native.corder cimport ord_order

cdef class InFlightOrder:
    cdef ord_order _o                    # state machine + exact totals (core/order.h)
    cdef readonly str client_order_id
    cdef readonly str trading_pair
    cdef readonly str base_asset
    cdef readonly str quote_asset
    cdef readonly object order_type      # OrderType
    cdef readonly object trade_type      # TradeType
    cdef readonly object price           # Decimal or None, as given
    cdef readonly object amount          # Decimal, as given
    cdef readonly double creation_timestamp
    cdef readonly double last_update_timestamp
    cdef readonly int leverage
    cdef readonly str position           # PositionAction value: "OPEN" / "CLOSE" / "NIL"
    cdef object _exchange_order_id
    cdef dict _fills                     # trade id -> TradeUpdate, arrival order
    cdef object _fills_view
    cdef object _eid_event, _filled_event, _processed_event
    cdef object _c_base, _c_quote, _c_avg, _c_fees   # lazily built Decimals (None = stale)

    cdef int c_update_with_trade_update(self, object trade_update) except -1   # 1 changed, 0 not
    cdef int c_update_with_order_update(self, object order_update) except -1
    cdef void _state_changed(self, int old_state) except *
    cdef bint _is_mine(self, object client_order_id, object exchange_order_id) except -1
