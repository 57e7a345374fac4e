"""Binance error answers: ``{"code": <negative int>, "msg": "..."}`` with an HTTP status.

Handlers raise :class:`BinanceError`; the REST wrapper and the WebSocket API turn it into the
wire shape. Codes and messages follow Binance's errors.md (messages verbatim where clients key on
them, e.g. Hummingbot matches "Order does not exist." and "Unknown order sent.").
"""
from __future__ import annotations


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400, headers: dict | None = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


# -- message constants (verbatim) -------------------------------------------------------------
UNKNOWN_ORDER = "Unknown order sent."
NO_SUCH_ORDER = "Order does not exist."
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
WOULD_TAKE = "Order would immediately match and take."
DUPLICATE_ORDER = "Duplicate order sent."
# Binance answers HTTP 503 with this message when the request reached the engine but the answer
# timed out: execution status UNKNOWN (rest-api.md, "HTTP 503"). Binance prints it with code -1000
# (UNKNOWN); Hummingbot keys on the 503 status + this text, not on the code.
UNKNOWN_ERROR_503 = "Unknown error, please check your request or try again later."
UNKNOWN_ERROR_503_CODE = -1000
INVALID_KEY = "Invalid API-key, IP, or permissions for action."


def unknown(msg: str = "An unknown error occurred while processing the request.") -> BinanceError:
    return BinanceError(-1000, msg, 500)


def mandatory(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_chars(name: str, legal: str = "^[a-zA-Z0-9-_]{1,36}$") -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def bad_precision(name: str) -> BinanceError:
    return BinanceError(-1111, f"Parameter '{name}' has too much precision.")


def unread(names) -> BinanceError:
    return BinanceError(-1104, f"Not all sent parameters were read; read {len(names)} parameter(s) but was sent more.")


def not_required(name: str) -> BinanceError:
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def bad_api_key(fmt: bool = False) -> BinanceError:
    if fmt:
        return BinanceError(-2014, "API-key format invalid.", 401)
    return BinanceError(-2015, INVALID_KEY, 401)


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def timestamp_outside() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {name}")


def new_order_rejected(msg: str) -> BinanceError:
    return BinanceError(-2010, msg)


def cancel_rejected(msg: str = UNKNOWN_ORDER) -> BinanceError:
    return BinanceError(-2011, msg)


def no_such_order() -> BinanceError:
    return BinanceError(-2013, NO_SUCH_ORDER)


def bad_enum(name: str, value: str) -> BinanceError:
    codes = {"timeInForce": -1115, "type": -1116, "side": -1117}
    code = codes.get(name, -1100)
    if code == -1115:
        return BinanceError(code, "Invalid timeInForce.")
    if code == -1116:
        return BinanceError(code, "Invalid orderType.")
    if code == -1117:
        return BinanceError(code, "Invalid side.")
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'.")
