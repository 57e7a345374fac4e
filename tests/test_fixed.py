"""exconnect.native.fixed against the plain-Python reference (tests/reference/fixed_ref.py)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st, example

from exconnect.native import fixed
from tests.reference import fixed_ref as ref

INT64 = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
SCALES = st.integers(min_value=0, max_value=18)
MODES = st.sampled_from([fixed.FLOOR, fixed.CEIL, fixed.NEAREST])


@st.composite
def number_texts(draw):
    """Decimal-looking text: signs, long/short digit runs, dots, exponents huge and tiny."""
    sign = draw(st.sampled_from(["", "-", "+"]))
    digits = st.text("0123456789", max_size=30)
    whole = draw(st.one_of(digits, st.sampled_from(["0", "00", "1", "9" * 19, "92233720368547758", "1" + "0" * 25])))
    frac = draw(digits)
    dot = draw(st.sampled_from([".", ".", ""])) if frac or whole else "."
    body = whole + (dot + frac if dot else "")
    if draw(st.booleans()):
        e = draw(st.one_of(st.integers(-40, 40), st.integers(-(10**25), 10**25)))
        body += draw(st.sampled_from(["e", "E"])) + draw(st.sampled_from(["", "+"] if e >= 0 else [""])) + str(e)
    return (sign + body).encode()


GARBAGE = st.one_of(
    st.binary(max_size=24),
    st.text("0123456789.eE+- x_", max_size=16).map(str.encode),
    st.sampled_from([b"NaN", b"inf", b"-Infinity", b"1_000", b" 1", b"1 ", b"0x10", b"1e", b".", b"-", b"e5",
                     b"1..2", b"1e+-5", b"--1", b"\x001", b"1\x00", "١".encode()]),
)


def both_decimal_paths(test):
    """Run the test body with the Decimal layout fast path on (if available) and off."""
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            for on in (True, False):
                fixed.use_decimal_fast_path(on)
                fixed.clear_cache()
                test(*args, **kwargs)
        finally:
            fixed.use_decimal_fast_path(True)
    return run


def _check_parse(text: bytes, scale: int):
    try:
        expected = ref.parse(text, scale)
    except ref.RefError as e:
        with pytest.raises(ValueError) as info:
            fixed.parse(text, scale)
        assert ref.MESSAGES[e.category] in str(info.value)
        return
    assert fixed.parse(text, scale) == expected


@given(number_texts(), SCALES)
@example(b"29999.99", 8)
@example(b"0.00100000", 8)
@example(b"1e-5", 8)
@example(b"-12.5", 2)
@example(b"9223372036854775807", 0)
@example(b"9223372036854775808", 0)
@example(b"92233720368.54775807", 8)
@example(b"92233720368.54775808", 8)
@example(b"0.0000000000000000000012345678901234567890", 8)
@example(b"1.00000000000000000000000000000000", 0)
@example(b"0." + b"0" * 100002 + b"1e100005", 0)  # exponent larger than any fixed clamp
@example(b"1" + b"0" * 300 + b"e-299", 0)
@example(b"0." + b"0" * 300 + b"1e-99999999999999999999", 2)
def test_parse_matches_reference(text, scale):
    _check_parse(text, scale)


@given(GARBAGE, SCALES)
def test_parse_garbage_is_value_error_exactly_when_reference_says(text, scale):
    _check_parse(text, scale)


@given(st.one_of(number_texts(), GARBAGE), SCALES, MODES)
@example(b"0.129999999999999999999999", 2, fixed.FLOOR)
@example(b"-0.001", 2, fixed.FLOOR)
@example(b"2.5", 0, fixed.NEAREST)
@example(b"3.5", 0, fixed.NEAREST)
@example(b"-2.5", 0, fixed.NEAREST)
@example(b"92233720368.547758075", 8, fixed.CEIL)
@example(b"0." + b"0" * 100002 + b"15e100005", 0, fixed.NEAREST)
@example(b"-0." + b"0" * 300 + b"1e-99999999999999999999", 2, fixed.FLOOR)
def test_parse_round_matches_reference(text, scale, mode):
    try:
        expected = ref.parse_round(text, scale, mode)
    except ref.RefError as e:
        with pytest.raises(ValueError) as info:
            fixed.parse_round(text, scale, mode)
        assert ref.MESSAGES[e.category] in str(info.value)
        return
    assert fixed.parse_round(text, scale, mode) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False), SCALES)
@example(Decimal("1E+5"), 2)
@example(Decimal("-0"), 3)
@example(Decimal("1.20E-7"), 9)
@both_decimal_paths
def test_parse_decimal_and_str_match_reference(d, scale):
    _check_parse(str(d).encode(), scale)
    try:
        expected = ref.parse(str(d), scale)
    except ref.RefError:
        with pytest.raises(ValueError):
            fixed.parse(d, scale)
        with pytest.raises(ValueError):
            fixed.parse(str(d), scale)
    else:
        assert fixed.parse(d, scale) == expected
        assert fixed.parse(str(d), scale) == expected


@given(INT64, SCALES)
@both_decimal_paths
def test_decimal_round_trip_is_exact(v, scale):
    d = fixed.decimal(v, scale)
    assert d == ref.decimal(v, scale)
    assert d.as_tuple().exponent == -scale
    assert fixed.parse(d, scale) == v
    assert fixed.decimal(v, scale) == d  # cached or not, the same value


@given(INT64, SCALES, st.booleans())
def test_text_matches_reference(v, scale, trim):
    assert fixed.text(v, scale, trim) == ref.text(v, scale, trim)
    assert fixed.parse(fixed.text(v, scale, trim), scale) == v


def test_text_of_int64_min():
    assert fixed.text(-(2**63), 18) == "-9.223372036854775808"


@given(INT64, st.integers(1, 2**63 - 1), MODES)
def test_quantize_matches_reference(v, inc, mode):
    try:
        expected = ref.quantize(v, inc, mode)
    except ref.RefError:
        with pytest.raises(ValueError):
            fixed.quantize(v, inc, mode)
        return
    assert fixed.quantize(v, inc, mode) == expected


def test_quantize_rejects_bad_increment_and_mode():
    with pytest.raises(ValueError):
        fixed.quantize(10, 0)
    with pytest.raises(ValueError):
        fixed.quantize(10, -5)
    with pytest.raises(ValueError):
        fixed.quantize(11, 5, 7)


@given(INT64, SCALES, SCALES)
def test_rescale_matches_reference(v, a, b):
    try:
        expected = ref.rescale(v, a, b)
    except ref.RefError:
        with pytest.raises(ValueError):
            fixed.rescale(v, a, b)
        return
    assert fixed.rescale(v, a, b) == expected


@pytest.mark.parametrize("scale", [-1, 19, 100])
def test_bad_scale_is_value_error(scale):
    with pytest.raises(ValueError):
        fixed.parse("1", scale)
    with pytest.raises(ValueError):
        fixed.decimal(1, scale)


@pytest.mark.parametrize("value", [1.5, float("nan"), True, None, object(), [1]])
def test_non_decimal_types_are_type_errors(value):
    with pytest.raises(TypeError):
        fixed.parse(value, 2)


def test_accepted_input_types_agree():
    assert fixed.parse(Decimal("12.5"), 2) == fixed.parse("12.5", 2) == fixed.parse(b"12.5", 2) == 1250
    assert fixed.parse(bytearray(b"12.5"), 2) == 1250
    assert fixed.parse(12, 2) == 1200
    with pytest.raises(ValueError):
        fixed.parse(2**70, 0)


def test_error_names_the_offending_text():
    with pytest.raises(ValueError, match="29999.999"):
        fixed.parse("29999.999", 2)
    with pytest.raises(ValueError, match="abc"):
        fixed.parse(b"abc", 2)


def test_decimal_cache_is_bounded_and_clearable():
    fixed.clear_cache()
    seen = {fixed.decimal(i, 4) for i in range(20_000)}
    assert len(seen) == 20_000  # values stay right across the cache's wholesale clears
    assert fixed.decimal(12345, 4) == Decimal("1.2345")
    fixed.clear_cache()
    assert fixed.decimal(12345, 4) == Decimal("1.2345")


@given(INT64, INT64, st.integers(0, 36), INT64, SCALES)
@example(2**63 - 1, 2**63 - 1, 0, 1, 18)
@example(-(2**63) + 1, 2**63 - 1, 36, -(2**63) + 1, 0)
@example(3, 1, 0, 30, 1)
def test_mul_cmp_is_exact(a, b, ab_scale, c, c_scale):
    from fractions import Fraction
    lhs, rhs = Fraction(a * b, 10**ab_scale), Fraction(c, 10**c_scale)
    assert fixed.mul_cmp(a, b, ab_scale, c, c_scale) == (lhs > rhs) - (lhs < rhs)


@given(INT64, INT64, INT64.filter(lambda d: d != 0), MODES)
def test_mul_div_matches_reference(a, b, d, mode):
    from fractions import Fraction
    import math
    x = Fraction(a * b, d)
    if mode == fixed.FLOOR:
        expected = math.floor(x)
    elif mode == fixed.CEIL:
        expected = math.ceil(x)
    else:
        expected = round(x)  # Fraction rounds half to even
    if not -(2**63) <= expected <= 2**63 - 1:
        with pytest.raises(ValueError):
            fixed.mul_div(a, b, d, mode)
    else:
        assert fixed.mul_div(a, b, d, mode) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False), SCALES, MODES)
@example(Decimal("12345678901234567890.5"), 0, fixed.NEAREST)  # coefficient wider than one word
@example(Decimal("-0.5"), 0, fixed.NEAREST)
@example(Decimal("1.5E-25"), 2, fixed.CEIL)
@both_decimal_paths
def test_parse_round_decimal_matches_reference(d, scale, mode):
    try:
        expected = ref.parse_round(str(d), scale, mode)
    except ref.RefError:
        with pytest.raises(ValueError):
            fixed.parse_round(d, scale, mode)
    else:
        assert fixed.parse_round(d, scale, mode) == expected


@given(INT64, SCALES)
@both_decimal_paths
def test_built_decimals_behave_like_parsed_ones(v, scale):
    built, parsed = fixed.decimal(v, scale), Decimal(ref.text(v, scale))
    assert str(built) == str(parsed) and repr(built) == repr(parsed)
    assert hash(built) == hash(parsed) and built.as_tuple() == parsed.as_tuple()
    assert built * 3 - 1 == parsed * 3 - 1 and built.normalize() == parsed.normalize()


def test_fallback_without_the_decimal_layout_fast_path():
    import os
    import subprocess
    import sys
    code = ("from decimal import Decimal; from exconnect.native import fixed as f;"
            "assert not f.DECIMAL_FAST_PATH;"
            "assert f.parse(Decimal('29999.99'), 8) == 2999999000000;"
            "assert str(f.decimal(2999999000000, 8)) == '29999.99000000'")
    env = dict(os.environ, EXCONNECT_NO_DECIMAL_FASTPATH="1")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


@both_decimal_paths
def test_bad_mode_and_long_garbage_are_value_errors():
    for value in (Decimal("1.5"), "1.5", b"1.5"):
        with pytest.raises(ValueError):
            fixed.parse_round(value, 0, -5)
        with pytest.raises(ValueError):
            fixed.parse_round(value, 0, 3)
    with pytest.raises(ValueError) as info:
        fixed.parse(b"x" * 100_000, 2)
    assert len(str(info.value)) < 200


def test_parse_many_sums_exactly_and_raises_on_bad_items():
    assert fixed.parse_many([b"1.5", b"-0.25", b"1e2"], 2) == 150 - 25 + 10000
    with pytest.raises(ValueError):
        fixed.parse_many([b"1.5", b"1.555"], 2)
