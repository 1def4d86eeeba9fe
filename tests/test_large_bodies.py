"""The shortcuts that make large bodies cheap give what the rule they stand for gives.

- `Document.first_row` reads only the lines up to the first row that is not blank; it must find
  the row (or the error) that taking the first of every row (`rows()`) finds.
- A server's large predictions, in all its worker processes, share the cores (`CoreBudget`).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from releaseml.common.errors import BadValue
from releaseml.data import csvrows
from releaseml.serving.core_budget import CoreBudget

LINES = st.lists(
    st.one_of(
        st.sampled_from(["", " ", "\t", " \t ", "a,b", " x , y ", "1,2,3", "\ufeffa,b", ",,", "é,ü"]),
        st.text(alphabet=st.sampled_from(list("ab ,\t1\r\ufeff")), max_size=12),
        st.binary(max_size=6).map(lambda raw: raw.decode("latin-1")),
    ),
    max_size=8,
)


def _outcome(call):
    try:
        return "row", call()
    except BadValue as exc:
        return "error", str(exc)


@settings(max_examples=600)
@given(LINES, st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([b"", b"\xff", b"\xc3"]), st.booleans())
def test_first_row_is_the_first_of_the_rows(lines, ending, raw_tail, bom):
    data = ("\ufeff" if bom else "").encode() + ending.join(lines).encode("utf-8") + raw_tail
    try:
        document = csvrows.Document(data)
    except BadValue:
        return  # refused before any row is read (a NUL byte), the same for both
    if document.quoted:
        return  # quoted documents take the csv module's way for both
    expected = _outcome(lambda: next(document.rows(), None))
    found = _outcome(document.first_row)
    if expected[0] == "row" or found[0] == "error":
        assert found == expected
    else:  # an undecodable byte after the first row is met later, by whoever reads the rest
        readable = csvrows.Document(data.decode("utf-8", "replace").encode())
        assert found[1] == next(readable.rows()) and not any("\ufffd" in field for field in found[1])


def test_large_predictions_share_the_cores_across_worker_processes():
    """One call alone gets every core; calls at once, in any worker process, split them."""
    import multiprocessing

    budget = CoreBudget(4)
    with budget.threads() as alone:
        assert alone == 4
    with budget.threads() as first, budget.threads() as second:
        assert (first, second) == (4, 2)  # a call keeps what it was given; the next gets the share
    holding, release = multiprocessing.get_context("fork").Event(), multiprocessing.get_context("fork").Event()

    def hold():  # a forked worker's call, running while this process asks
        with budget.threads():
            holding.set()
            release.wait(10)

    worker = multiprocessing.get_context("fork").Process(target=hold)
    worker.start()
    try:
        assert holding.wait(10)
        with budget.threads() as here, budget.threads() as third:
            assert (here, third) == (2, 1)
    finally:
        release.set()
        worker.join(10)
    with budget.threads() as after:
        assert after == 4  # every call gave its share back


def test_a_single_core_or_many_calls_still_get_a_thread():
    budget = CoreBudget(1)
    with budget.threads() as one, budget.threads() as two:
        assert one == two == 1
