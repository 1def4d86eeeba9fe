"""Thousands of generated requests against the real server: none may get a 5xx or kill it.

The generators lean on what once broke parsers here: byte-order marks, lone carriage returns, NUL
bytes, repeated header names, digits of other scripts, unusual spaces, true/false and NaN in any
case. Bounded in count (max_examples) so it belongs to the default test run.
"""

import json

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
CONTENT_TYPES = [
    "text/csv",
    "text/csv; charset=utf-8",
    "application/json",
    "application/jsonlines",
    "application/x-jsonlines",
    "TEXT/CSV",
    "text/plain",
    "",
    "application/octet-stream",
]
ACCEPTS = ["*/*", "text/csv", "application/json", "application/jsonlines", "text/html", "application/json;q=0.5, text/csv", ""]

header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(
    str.strip
)  # requests refuses edge spaces
ODD = ["\ufeff", "\r", "\x00", "\u00a0", "\u2003", "\u3000", "\x1e", "\x0b", "\t", "１２", "١٢", "߇", "nAn", "NA ", "TRUE", "fAlSe"]
field = st.one_of(
    st.sampled_from(["Dream", "Biscoe", "male", "", "NA", "nan", "null", "1e308", "-0", "inf", " 3", '"q"', "a,b", '"', "\\"]),
    st.sampled_from(ODD),
    st.lists(st.sampled_from(ODD + ["1", "2", "."]), min_size=1, max_size=4).map("".join),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(max_size=8),
)
csv_line = st.lists(field, min_size=0, max_size=9).map(",".join)
csv_body = st.tuples(
    st.sampled_from(["", "\ufeff", "\ufeff\n", "\ufeff\r\n  \r\n"]),
    st.sampled_from(["", "island,island,sex,sex\n", ",".join(FEATURES + ["island"]) + "\n"]),  # repeated header names
    st.lists(csv_line, min_size=0, max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
).map(lambda parts: parts[0] + parts[1] + parts[3].join(parts[2]))
json_scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=7) | st.dictionaries(st.sampled_from(FEATURES + ["species", "year", "x"]), inner, max_size=7),
    max_leaves=20,
)
json_body = st.one_of(json_value, st.fixed_dictionaries({"instances": json_value})).map(lambda v: json.dumps(v, allow_nan=True))
jsonlines_body = st.lists(json_value.map(json.dumps), max_size=5).map("\n".join)
any_body = st.one_of(csv_body, json_body, jsonlines_body, st.binary(max_size=200).map(lambda b: b.decode("latin-1")))


def check(server, session, body, content_type, accept):
    headers = {"Content-Type": content_type, "Accept": accept}
    answer = session.post(f"{server.url}/invocations", data=body.encode("utf-8", "surrogatepass"), headers=headers, timeout=30)
    assert answer.status_code < 500, (answer.status_code, answer.text, body, headers)
    if answer.status_code >= 400:
        assert "error" in answer.json()
    return answer


@settings(max_examples=1500)
@given(body=any_body, content_type=st.sampled_from(CONTENT_TYPES) | header_text, accept=st.sampled_from(ACCEPTS) | header_text)
def test_no_request_gets_a_5xx(species_server, body, content_type, accept):
    with requests.Session() as session:
        check(species_server, session, body, content_type, accept)


@settings(max_examples=800)
@given(rows=st.lists(st.lists(field, min_size=6, max_size=6), min_size=1, max_size=5))
def test_well_shaped_csv_is_answered_row_for_row_or_refused_with_a_row(species_server, rows):
    body = "\n".join(",".join(r) for r in rows)
    with requests.Session() as session:
        answer = check(species_server, session, body, "text/csv", "text/csv")
    if answer.status_code == 200:
        assert len(answer.text.split("\n")) == len([line for line in body.split("\n") if line])


def test_server_is_still_healthy_after_the_fuzzing(species_server):
    assert requests.get(f"{species_server.url}/ping", timeout=5).status_code == 200
    assert species_server.process.poll() is None
