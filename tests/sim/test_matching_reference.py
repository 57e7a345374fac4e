"""The matching engine against a naive reference model on random order flows (hypothesis)."""
from hypothesis import given, settings, strategies as st

from exconnect.sim.matching_engine import Book, Order

STEP = 1


class RefBook:
    """Obviously-correct matcher: lists scanned in full, price-time priority by (price, seq)."""

    def __init__(self):
        self.resting = []          # [seq, oid, owner, is_buy, price, remaining]
        self.seq = 0

    def submit(self, oid, owner, is_buy, price, qty, tif, market, stp):
        fills, expired = [], []
        remaining = qty
        crosses = lambda r: (r[4] <= price if is_buy else r[4] >= price) if not market else True
        opp = lambda: sorted((r for r in self.resting if r[3] != is_buy and crosses(r)),
                             key=lambda r: ((r[4] if is_buy else -r[4]), r[0]))
        if tif == "FOK":
            avail = sum(r[5] for r in opp() if not (owner is not None and r[2] == owner and stp != "NONE"))
            if avail < qty:
                return fills, expired, False
        taker_stp = False
        for r in opp():
            if remaining == 0:
                break
            if owner is not None and r[2] == owner and stp != "NONE":
                if stp in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
                    self.resting.remove(r)
                    expired.append(r[1])
                if stp in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
                    taker_stp = True
                    break
                continue
            q = min(r[5], remaining)
            r[5] -= q
            remaining -= q
            fills.append((r[1], r[4], q))
            if r[5] == 0:
                self.resting.remove(r)
        rested = False
        if remaining and not market and tif == "GTC" and not taker_stp:
            self.seq += 1
            self.resting.append([self.seq, oid, owner, is_buy, price, remaining])
            rested = True
        return fills, expired, rested

    def cancel(self, oid):
        for r in self.resting:
            if r[1] == oid:
                self.resting.remove(r)
                return True
        return False

    def levels(self):
        out = {}
        for r in self.resting:
            out[(r[3], r[4])] = out.get((r[3], r[4]), 0) + r[5]
        return out


op = st.one_of(
    st.tuples(st.just("order"), st.sampled_from([None, 1, 2]), st.booleans(), st.integers(95, 105),
              st.integers(1, 20), st.sampled_from(["GTC", "GTC", "IOC", "FOK"]), st.booleans(),
              st.sampled_from(["NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH"])),
    st.tuples(st.just("cancel"), st.integers(1, 60)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(op, min_size=1, max_size=60))
def test_engine_matches_reference(ops):
    book, ref = Book("X", STEP), RefBook()
    oid = 0
    for o in ops:
        if o[0] == "cancel":
            got = book.cancel(o[1])
            assert (got is not None) == ref.cancel(o[1])
            continue
        _, owner, is_buy, price, qty, tif, market, stp = o
        oid += 1
        res = book.submit(Order(oid, owner, is_buy, 0 if market else price, qty), tif=tif, market=market, stp=stp)
        fills, expired, rested = ref.submit(oid, owner, is_buy, price, qty, tif, market, stp)
        assert [(f.maker.order_id, f.price, f.qty) for f in res.fills] == fills
        assert [m.order_id for m in res.expired_makers] == expired
        assert res.rested == rested
        want = ref.levels()
        have = {(True, -k): lvl.total for k, lvl in book.bids.items()}
        have.update({(False, k): lvl.total for k, lvl in book.asks.items()})
        assert have == want
        bb, ba = book.best_bid(), book.best_ask()
        assert bb is None or ba is None or bb[0] < ba[0]
