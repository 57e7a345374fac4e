"""Client order ids unique across processes and restarts (see the module docstring)."""
from typing import Optional

BINANCE_MAX_ID_LEN: int  # 36

def get_new_client_order_id(
    is_buy: bool,
    trading_pair: str,
    hbot_order_id_prefix: str = "",
    max_id_len: Optional[int] = None,
) -> str:
    """<prefix><B|S><base first+last><quote first+last><11 time chars><5..16 random chars>,
    at most max_id_len (default 36) characters from [A-Za-z0-9_-].
    ValueError if the prefix has other characters or max_id_len leaves < 16 chars after it."""
