"""Thousands of generated requests against the real server: none may get a 5xx or kill it.

The generators lean on what once broke parsers here: byte-order marks, lone carriage returns, NUL
bytes, repeated header names, digits of other scripts, unusual spaces, true/false and NaN in any
case. Bounded in count (max_examples) so it belongs to the default test run.
"""

import json

import requests
from hypothesis import Phase, given, settings
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
# Spaces and tabs around a value, past the typing rule's quick windows (~16 characters) or within them.
padded = st.tuples(
    st.sampled_from([" ", "\t", " \t"]).flatmap(lambda unit: st.integers(0, 2000).map(lambda count: unit * count)),
    st.sampled_from(["NA", "null", "true", "FALSE", "Dream", "male", "3", "1e3", "\ufeffDream"]),
    st.sampled_from(["", " ", "\t" * 20, " " * 300]),
).map("".join)
field = st.one_of(
    st.sampled_from(["Dream", "Biscoe", "male", "", "NA", "nan", "null", "1e308", "-0", "inf", " 3", '"q"', "a,b", '"', "\\"]),
    padded,
    st.sampled_from(ODD),
    st.lists(st.sampled_from(ODD + ["1", "2", "."]), min_size=1, max_size=4).map("".join),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(max_size=8),
)
csv_line = st.lists(field, min_size=0, max_size=9).map(",".join)
csv_body = st.tuples(
    st.sampled_from(["", "\ufeff", "\ufeff\n", "\ufeff\r\n  \r\n", "\ufeff\ufeff", "\ufeff\n\ufeff"]),
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


# ---- raw HTTP: chunked bodies ------------------------------------------------------------------

CSV_ROW = b"Dream,46.7,17.9,195,3300,female\n"
# A line end a lenient reader would take: with one of these every line of a request has ended, so the
# server can always decide, and must answer (a bare LF once left the connection silent for 60 s).
line_end = st.sampled_from([b"\r\n", b"\r\n", b"\n"])
transfer_encoding = st.sampled_from(
    [b"chunked", b"chunked", b"Chunked", b"chunked, chunked", b"gzip, chunked", b"identity", b"chunked,", b"x, chunked"]
)
# True sizes, or sizes past the body limit (101 MB): never a size that leaves the server rightly waiting for more.
chunk_size = st.one_of(st.none(), st.none(), st.integers(101 * 2**20 + 1, 2**96))


@st.composite
def chunked_requests(draw) -> bytes:
    """A POST with a chunked body whose framing is mutated: line ends, sizes, extensions, trailers, Transfer-Encoding."""
    body = CSV_ROW * draw(st.integers(1, 30))
    cuts = sorted(draw(st.lists(st.integers(1, len(body) - 1), max_size=4, unique=True)))
    pieces = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)])]
    head = b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
    if draw(st.booleans()):
        head += b"Content-Length: %d\r\n" % len(body)
    out = head + b"Transfer-Encoding: " + draw(transfer_encoding) + b"\r\n\r\n"
    for piece in pieces:
        size = draw(chunk_size)
        extension = draw(st.sampled_from([b"", b"", b";a=b", b";", b';q="x"', b" ;a"]))
        out += b"%x" % (len(piece) if size is None else size) + extension + draw(line_end) + piece + draw(line_end)
    trailer = draw(st.sampled_from([b"", b"", b"X-Sum: 1", b"X-Sum 1", b"X-Sum: 1\r\nX-More: 2"]))
    return out + b"0" + draw(line_end) + (trailer + draw(line_end) if trailer else b"") + draw(line_end)


def answer_of(port: int, data: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """The status and body of the server's answer to raw bytes; a silent server fails by socket.timeout."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            assert piece, ("closed without an answer", data)
            received += piece
        head, body = received.split(b"\r\n\r\n", 1)
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0))
        while len(body) < length:
            piece = sock.recv(65536)
            assert piece, ("answer cut short", data)
            body += piece
    return int(head.split(b" ", 2)[1]), body


@settings(max_examples=300, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: each silent try costs seconds
@given(data=chunked_requests())
def test_every_chunked_request_gets_an_answer_at_once(species_server, data):
    status, body = answer_of(species_server.port, data)
    assert status < 500, (status, body, data)
    if status >= 400:
        assert "error" in json.loads(body), (body, data)


def test_server_is_still_healthy_after_the_fuzzing(species_server):
    assert requests.get(f"{species_server.url}/ping", timeout=5).status_code == 200
    assert species_server.process.poll() is None
