"""The one typing rule (`values`) and the one row rule (`csvrows`): every fast way agrees with the plain one.

The plain ways are Python, one value or one row at a time; the fast ways (numpy's float cast, the
distinct-value map, pandas' C parser for number columns) must give the same result on generated
values and documents, including the spellings that once split them (true/false, NaN in any case,
unusual digits and spaces, stray carriage returns, byte-order marks).
"""

import csv
import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releaseml.common.errors import BadValue, UserError
from releaseml.data import csvrows, dataset, values
from releaseml.data import schema as schema_module

TRICKY = [
    "", " ", "NA", "NA ", " na", "nAn", "NAN", "-NaN", "+nan", "null", "NULL", "None", "none", "N/A", "#N/A", "<NA>", "1.#IND",
    "true", "TRUE", "True", " false ", "FALSE", "yes", "1", "1.0", " 3 ", "+4", "-0", ".5", "5.", "1e5", "1E-3", "1e400", "inf",
    "-Infinity", "INF", "1_000", "١٢", "１２", "\u00a03", "3\u00a0", "0x10", "1e", "abc", "Dream", "male ", "\t7", "١.٥",
]  # fmt: skip
plain_value = st.one_of(
    st.sampled_from(TRICKY),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.integers(0, 25).flatmap(lambda places: st.decimals(allow_nan=False, allow_infinity=False, places=places)).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='\x00\r\n,"'), max_size=6),
)
# Spaces and tabs of any length, short (inside the rule's quick windows of ~16 characters) or far longer.
padding = st.tuples(st.sampled_from([" ", " ", "\t", " \t", "\t "]), st.one_of(st.integers(1, 24), st.integers(17, 3000))).map(
    lambda unit_count: unit_count[0] * unit_count[1]
)
padded = st.one_of(
    st.tuples(padding, st.sampled_from(TRICKY), st.one_of(st.just(""), padding)),  # markers, true/false: the values the windows were for
    st.tuples(st.one_of(st.just(""), padding), st.one_of(st.sampled_from(TRICKY), plain_value), padding),
).map("".join)
# A value longer than any quick window: a long word, a long number, a long run of digits after the point.
long_value = st.one_of(
    st.integers(17, 3000).map(lambda n: "x" * n),
    st.integers(17, 400).map(lambda n: "1" * n),
    st.integers(17, 400).map(lambda n: "0." + "0" * n + "1"),
)
value = st.one_of(plain_value, padded, long_value)
KINDS = [values.NUMERIC, values.CATEGORICAL, values.BOOLEAN]


def one_by_one(items, kind):
    """The plain way: `values.typed` on each value; BadValue as the string 'bad'."""
    out = []
    for row, item in enumerate(items, start=1):
        try:
            out.append(values.typed(item, kind, "c", row))
        except BadValue:
            return "bad"
    return out


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return type(a) is type(b) and a == b


@settings(max_examples=400)
@given(
    items=st.lists(st.one_of(value, st.none(), st.booleans(), st.integers(), st.floats()), min_size=1, max_size=80),
    kind=st.sampled_from(KINDS),
)
def test_a_column_is_typed_as_each_of_its_values_alone(items, kind):
    expected = one_by_one(items, kind)
    try:
        found = [v.item() if isinstance(v, np.generic) else v for v in values.column(items, kind, "c").tolist()]
    except BadValue:
        found = "bad"
    assert (found == "bad") == (expected == "bad"), (items, kind, found, expected)
    if expected != "bad":
        assert all(same(float(f) if kind == values.NUMERIC else f, e) for f, e in zip(found, expected)), (items, found, expected)


@pytest.mark.parametrize(
    "raw,kind,expected",
    [
        ("true", values.BOOLEAN, "True"), ("TRUE", values.BOOLEAN, "True"), (" False", values.BOOLEAN, "False"), (True, values.BOOLEAN, "True"),
        ("NA ", values.NUMERIC, None), ("nAn", values.NUMERIC, None), ("NULL", values.CATEGORICAL, ""), ("١٢", values.NUMERIC, 12.0),
        ("\u00a03", values.NUMERIC, 3.0), (" Dream ", values.CATEGORICAL, "Dream"), (1.0, values.CATEGORICAL, "1.0"), (True, values.CATEGORICAL, "true"),
        # padded past the quick windows: once "not a number", an unseen category 'true', or the text 'NA'
        (" " * 17 + "NA", values.NUMERIC, None), ("NA" + "\t" * 3000, values.NUMERIC, None), (" " * 16 + "true", values.BOOLEAN, "True"),
        ("\t " * 2000 + "FALSE" + " " * 9, values.BOOLEAN, "False"), (" " * 17 + "NA", values.BOOLEAN, ""), ("null" + " " * 40, values.CATEGORICAL, ""),
        (" " * 40 + "3" + "\t" * 40, values.NUMERIC, 3.0), ("x" * 17, values.CATEGORICAL, "x" * 17), ("true" + "x" * 13, values.BOOLEAN, "true" + "x" * 13),
    ],
)  # fmt: skip
def test_spellings_that_once_split_the_paths(raw, kind, expected):
    result = values.typed(raw, kind, "c", 1)
    assert math.isnan(result) if expected is None else result == expected, result


def outcome(raw, kind):
    """`values.typed`'s result, or 'bad' for a BadValue."""
    try:
        return values.typed(raw, kind, "c", 1)
    except BadValue:
        return "bad"


@settings(max_examples=600)
@given(raw=plain_value, before=padding, after=padding, kind=st.sampled_from(KINDS))
def test_spaces_and_tabs_around_a_value_never_change_how_it_is_typed(raw, before, after, kind):
    """The rule strips white space around a value, whatever its length: a missing marker, a number,
    true/false and text are what they are with or without it."""
    assert same(outcome(before + raw + after, kind), outcome(raw, kind)), (before, raw, after, kind)


@pytest.mark.parametrize("raw", ["true", "FALSE", True, "abc", "1,5", [1], {"a": 1}])
def test_what_is_not_a_number_is_refused_with_its_row_and_column(raw):
    with pytest.raises(BadValue) as error:
        values.typed(raw, values.NUMERIC, "balance", 7)
    assert error.value.row == 7 and error.value.column == "balance"


def test_kinds_are_inferred_from_every_value():
    assert values.infer_kind(["1", " 2 ", "NA", "", "1e3"]) == values.NUMERIC
    assert values.infer_kind(["true", "FALSE", "", "null"]) == values.BOOLEAN
    assert values.infer_kind(["true", "maybe"]) == values.CATEGORICAL
    assert values.infer_kind(["", "NA"]) == values.NUMERIC  # nothing present: an empty number column


@settings(max_examples=400)
@given(
    items=st.one_of(
        st.lists(st.one_of(value, st.none(), st.booleans(), st.floats()), min_size=1, max_size=80),
        st.lists(  # mostly number text, as a file's number column is, with its odd spellings
            st.one_of(
                st.floats().map(repr),
                st.integers(-(10**20), 10**20).map(str),
                st.sampled_from(["", " ", "NA", "1_000", "١٢", "nan", "-inf", "\u00a03", "1e400"]),
            ),
            min_size=1,
            max_size=80,
        ),
    )
)
def test_a_column_typed_at_once_is_typed_as_value_by_value(items):
    """The quick path for a file's number columns answers only when the plain way says NUMERIC,
    and then with the same numbers."""
    column = np.asarray(items, dtype=object)
    quick = values.numbers_at_once(column)
    if quick is None:
        return
    assert values.infer_kind(column) == values.NUMERIC, items
    expected = values.column(column, values.NUMERIC, "c")
    assert quick.dtype == np.float64 and all(same(float(a), float(b)) for a, b in zip(quick, expected)), (items, quick, expected)


def test_a_number_column_with_empty_cells_is_typed_at_once():
    typed = values.numbers_at_once(np.array(["1.5", "", " 2", "1e3", "nan", "1_000"], dtype=object))
    assert typed is not None and typed[0] == 1.5 and np.isnan(typed[1]) and list(typed[2:4]) == [2.0, 1000.0] and typed[5] == 1000
    assert values.numbers_at_once(np.array(["1", "NA"], dtype=object)) is None  # other spellings: value by value
    assert values.numbers_at_once(np.array(["1", None], dtype=object)) is None
    assert values.numbers_at_once(np.array([True, "1"], dtype=object)) is None


# ---- rows -------------------------------------------------------------------------------------

# A byte-order mark opening a field: at a row's start it may open a piece of the fast way too.
with_bom = value.map(lambda text: "\ufeff" + text)
field = st.one_of(value, with_bom, st.sampled_from(["a,b", 'say "hi"', "two\nlines", "   ", "\t"]))
# Fields that need no quotes: a document of only these takes the fast ways (no csv module).
unquoted_field = st.one_of(value, with_bom, st.sampled_from(["   ", "\t"])).filter(lambda text: not any(c in text for c in ',"\r\n\x00'))
line_end = st.sampled_from(["\n", "\r\n", "\r"])
spacer = st.sampled_from(["", "\n", "   \n", "\t\n"])


@st.composite
def documents(draw):
    """CSV text from rows, with mixed line ends, blank lines, maybe a BOM, maybe a bad row; half of them
    without a field that needs quotes (one quote anywhere sends a whole document down the csv module's path)."""
    fields = draw(st.sampled_from([field, unquoted_field]))
    rows = draw(st.lists(st.lists(fields, min_size=3, max_size=3), min_size=1, max_size=40))
    if draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), draw(st.lists(fields, min_size=1, max_size=5)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    parts = []
    for r in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(r)
        parts.append(out.getvalue().removesuffix("\n") + draw(line_end) + draw(spacer))
    text = "".join(parts)
    return (draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"])) + text).encode("utf-8", "surrogatepass")


def plain_rows(document: csvrows.Document, width: int, numbers: dict[int, str]):
    """The plain way: `Document.rows` and the one-value typing, or the error's row."""
    out = []
    try:
        for number, fields in enumerate(document.rows(), start=1):
            csvrows.check_width(len(fields), width, number)
            out.append([values.typed(v, values.NUMERIC, numbers[i], number) if i in numbers else v for i, v in enumerate(fields)])
    except BadValue as exc:
        return ("bad", exc.row)
    return out


def fast_rows(document: csvrows.Document, width: int, numbers: dict[int, str]):
    out = []
    try:
        for chunk in document.frames(width, numbers=numbers):
            out.extend(chunk.frame.astype(object).values.tolist())
    except BadValue as exc:
        return ("bad", exc.row)
    return out


@settings(max_examples=500)
@given(data=documents(), numbers=st.sampled_from([{}, {1: "b"}, {0: "a", 2: "c"}]), piece=st.sampled_from([64, 4 << 20]))
def test_the_fast_way_splits_and_types_rows_as_the_plain_way(data, numbers, piece, monkeypatch_module):
    monkeypatch_module.setattr(csvrows, "PIECE_BYTES", piece)  # small pieces: many chunk edges
    try:
        document = csvrows.Document(data)
    except csvrows.CsvError:
        return
    expected, found = plain_rows(document, 3, numbers), fast_rows(document, 3, numbers)
    if isinstance(expected, tuple) or isinstance(found, tuple):
        assert found == expected, (data, found, expected)
        return
    assert len(found) == len(expected), (data, found, expected)
    for got, want in zip(found, expected):
        assert all(same(g, w) if isinstance(w, float) else values.text(g) == values.text(w) for g, w in zip(got, want)), (data, got, want)


QUOTED = ['"a,b"', '"two\nlines"', '"say ""hi"""', '"  "']


def typed_rows(data: bytes, kinds: list[str]):
    """Every row of a document typed value by value (`Document.rows`, `values.typed`), or ('bad', row)."""
    out = []
    try:
        for number, fields in enumerate(csvrows.Document(data).rows(), start=1):
            csvrows.check_width(len(fields), len(kinds), number)
            out.append([values.typed(v, kind, "c", number) for v, kind in zip(fields, kinds)])
    except BadValue as exc:
        return ("bad", exc.row)
    return out


@settings(max_examples=400)
@given(
    rows=st.lists(
        st.lists(st.one_of(padded, unquoted_field), min_size=3, max_size=3),  # padded often: the class this test is for
        min_size=1,
        max_size=8,
    ),
    quoted=st.sampled_from(QUOTED),
    kinds=st.permutations(KINDS),
)
def test_a_row_is_typed_alike_whether_or_not_another_field_is_quoted(rows, quoted, kinds):
    """A quote anywhere sends a document down the csv module's path (which drops leading spaces);
    a padded value once was missing there and 'not a number' without it."""
    body = "\n".join(",".join(r) for r in rows)
    extra = ",".join(quoted if kind == values.CATEGORICAL else "" for kind in kinds)
    plain, with_quote = typed_rows(body.encode(), kinds), typed_rows((body + "\n" + extra).encode(), kinds)
    if isinstance(plain, tuple):
        assert with_quote == plain, (body, plain, with_quote)
        return
    assert len(with_quote) == len(plain) + 1 and all(all(same(a, b) for a, b in zip(got, want)) for got, want in zip(with_quote, plain)), (
        body,
        plain,
        with_quote,
    )


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize(
    "data,error",
    [
        (b"a,1\n\x00b,2\n", "NUL byte"),
        (b"a,1\n\xff,2\n", "not UTF-8"),
        (b"male,40,\r3rd\n", "row 2 has 1 value(s) but 3"),
        (b"a,1,x\nb,2\n", "row 2 has 2 value(s) but 3"),
        (b'a,"1,x\n', "malformed CSV"),
    ],
)
def test_documents_that_break_the_rule_are_errors_naming_the_row(data, error):
    with pytest.raises(csvrows.CsvError, match=error.replace("(", r"\(").replace(")", r"\)")):
        document = csvrows.Document(data)
        list(document.frames(3))


def test_a_byte_order_mark_and_blank_lines_alone_are_no_rows():
    for data in [b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\r\n  \n", b"\n\t\n"]:
        assert csvrows.Document(data).first_row() is None


# ---- a training file's text read as Categoricals ------------------------------------------------

number_text = st.one_of(
    st.floats().map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", " ", "NA", " NA", "nan", "-nan", "1.#IND", "-1.#qnan", "1_000", " 7", "  -inf", "00", "007", "0.10", "1e-18", "true", "x"]
    ),
)


@st.composite
def files(draw):
    """A training file: a header, then rows whose middle column is mostly numbers (the C parser's
    number columns), the others any field; maybe quoted fields, blank lines, a bad row."""
    fields = draw(st.sampled_from([field, unquoted_field]))
    text = st.one_of(fields, number_text)  # a column of codes such as 00 and 007 is text when declared so
    rows = draw(st.lists(st.tuples(text, number_text, text), min_size=1, max_size=40))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([("a", "b", "c"), *rows])
    text = out.getvalue()
    if draw(st.booleans()):
        lines = text.split("\n")
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", "  ", "x,y", "1,2,3,4"])))
        text = "\n".join(lines)
    return (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8", "surrogatepass")


def read_as_text(file, string_columns) -> pd.DataFrame:
    """The rule the Categoricals replace: every text cell a Python string, pieces joined by pd.concat."""
    document = csvrows.Document(file.read_bytes(), what=str(file), name_lines=True)
    header = document.first_row()
    try:
        names = dataset._column_names(header, file)
        numbers = dataset._number_columns(document, names, string_columns)
        try:
            chunks = [chunk.frame for chunk in document.frames(len(names), skip_rows=1, numbers=numbers)]
        except BadValue:
            chunks = [chunk.frame for chunk in document.frames(len(names), skip_rows=1)]
    except csvrows.CsvError as exc:
        raise UserError(dataset._in_file(file, exc, header)) from None
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=range(len(names)))
    frame.columns = names
    return frame


def typed_or_error(read, file, string_columns):
    try:
        return dataset.typed_frame(read(file, string_columns), set(string_columns))
    except UserError as exc:  # BadValue and UserError: the message a user reads
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=400)
@given(data=files(), string_columns=st.sampled_from([(), ("b",), ("a", "c")]), piece=st.sampled_from([64, 1 << 20]))
def test_a_file_read_as_categories_is_typed_as_read_as_text(data, string_columns, piece, tmp_path_factory, monkeypatch_module):
    """Training reads a file's text columns as Categoricals (each distinct text once, typed once by
    `values.coded`) and joins the pieces' categories; the typed frame is the one reading every cell
    as text gave, and so is any error."""
    monkeypatch_module.setattr(csvrows, "PIECE_BYTES", piece)  # the first piece decides which columns are numbers
    monkeypatch_module.setattr(dataset, "FILE_PIECE_BYTES", piece)  # small pieces: many Categoricals to join
    file = tmp_path_factory.mktemp("file") / "data.csv"
    file.write_bytes(data)
    expected = typed_or_error(read_as_text, file, string_columns)
    found = typed_or_error(dataset.read_raw, file, string_columns)
    if isinstance(expected, str) or isinstance(found, str):
        assert found == expected, (data, found, expected)
        return
    pd.testing.assert_frame_equal(found, expected)


def test_a_refused_text_is_named_by_its_first_row_whatever_the_order_of_the_distinct_texts():
    """`values.coded` types each distinct text once; a refused one (a byte-order mark inside) is named by
    the first row that holds it, as typing row by row names it, though the Categorical sorts its texts."""
    cells = ["b", "a", "z\ufeffz", "a", "c\ufeffc", "z\ufeffz"]
    categorical = pd.Categorical(cells)
    with pytest.raises(BadValue) as by_row:
        values.column(np.array(cells, dtype=object), values.CATEGORICAL, "c", 1)
    with pytest.raises(BadValue) as by_text:
        values.coded(np.asarray(categorical.categories, dtype=object), categorical.codes, values.CATEGORICAL, "c", 1)
    assert by_text.value.row == by_row.value.row == 3 and str(by_text.value) == str(by_row.value)


@settings(max_examples=400)
@given(
    items=st.lists(st.one_of(value, st.none(), st.booleans(), st.integers(), st.floats()), min_size=1, max_size=80),
    kind=st.sampled_from([values.CATEGORICAL, values.BOOLEAN]),
)
def test_a_column_typed_as_categories_holds_the_text_typed_as_usual(items, kind):
    """Training gives CatBoost its category columns as Categoricals (`values.column(categories=True)`):
    row by row the same text as the usual object column, each distinct text one category."""
    try:
        expected = values.column(items, kind, "c")
    except BadValue as exc:
        with pytest.raises(BadValue, match=re.escape(str(exc))):
            values.column(items, kind, "c", categories=True)
        return
    found = values.column(items, kind, "c", categories=True)
    assert isinstance(found, pd.Categorical) and found.categories.is_unique and (found.codes >= 0).all()
    assert np.asarray(found, dtype=object).tolist() == expected.tolist()
    assert set(found.categories) == set(expected.tolist())  # no category that no row holds


@settings(max_examples=400)
@given(cells=st.lists(st.one_of(value, st.none(), st.sampled_from(["True", "False", "true", " FALSE"])), min_size=1, max_size=60))
def test_a_text_columns_kind_is_settled_by_its_first_rows_as_by_all_of_them(cells):
    """A training column's kind: one that is not true/false in its first rows is CATEGORICAL at once; the
    plain way, every value's kind (`values.infer_kind`), says the same."""
    column = pd.Series(cells, dtype=object)
    plain = values.infer_kind(column.to_numpy(dtype=object))
    assert schema_module._kind(column, False) == (values.CATEGORICAL if plain == values.NUMERIC else plain), cells


@settings(max_examples=500)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(["true", "TRUE", "tRuE", "false", "FalsE", "tru", "fals", "t rue", "ture", "@RUE", "T\u00f6RUE", "TR\u00dcE"]),
            st.text(alphabet="trueTRUEfalsFALS,;@[^`{ 019\u00e9\u0130\u212a", max_size=8),
        ),
        max_size=12,
    )
)
def test_true_and_false_are_found_in_any_letter_case_as_in_the_bytes_in_lower_case(parts):
    """The fast way reads a number column's piece with the C parser only where true/false appears in no
    letter case (it would read them as 1 and 0); found with numpy, as `bytes.lower()` and `in` find them."""
    data = "".join(parts).encode()
    lower = data.lower()
    assert csvrows._has_true_false(data) == (b"true" in lower or b"false" in lower), data
