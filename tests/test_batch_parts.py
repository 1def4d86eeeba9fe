"""Input files cut into parts for many transform instances, and their outputs put back in order."""

from pathlib import Path

import pytest

from releaseml.aws import transform


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(transform, "MIN_PART_BYTES", 1)


def lines(count: int, ending: bytes = b"\n", last_ending: bool = True) -> bytes:
    body = ending.join(f"row{i},{i * 3.5},text {i}".encode() for i in range(count))
    return body + (ending if last_ending else b"")


@pytest.mark.parametrize("ending, last_ending", [(b"\n", True), (b"\r\n", True), (b"\n", False)])
def test_parts_end_at_line_ends_and_join_back_to_the_file(tmp_path, small_parts, ending, last_ending):
    data = tmp_path / "in" / "scores.csv"
    data.parent.mkdir()
    data.write_bytes(lines(1000, ending, last_ending))
    parts = transform.split_for_instances({"scores.csv": data}, 4, tmp_path / "parts")
    assert list(parts) == [f"scores.part000{i}of0004.csv" for i in (1, 2, 3, 4)]
    pieces = [path.read_bytes() for path in parts.values()]
    assert b"".join(pieces) == data.read_bytes()
    assert all(piece.endswith(ending) for piece in pieces[:-1])
    sizes = [len(piece) for piece in pieces]
    assert max(sizes) - min(sizes) <= 2 * max(len(line) for line in data.read_bytes().splitlines(keepends=True))


def test_one_instance_or_small_files_are_sent_as_they_are(tmp_path):
    data = tmp_path / "scores.csv"
    data.write_bytes(lines(1000))
    files = {"scores.csv": data}
    assert transform.split_for_instances(files, 1, tmp_path / "parts") == files
    assert transform.split_for_instances(files, 3, tmp_path / "parts") == files  # 28 KB: under MIN_PART_BYTES
    assert not (tmp_path / "parts").exists()


def test_fewer_lines_than_parts_are_named_by_the_real_count(tmp_path, small_parts):
    data = tmp_path / "two.csv"
    data.write_bytes(lines(2))
    parts = transform.split_for_instances({"sub/two.csv": data}, 5, tmp_path / "parts")
    assert list(parts) == ["sub/two.part0001of0002.csv", "sub/two.part0002of0002.csv"]
    assert b"".join(p.read_bytes() for p in parts.values()) == data.read_bytes()


def test_outputs_of_parts_are_put_back_in_part_order_and_the_parts_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for index, text in ((2, b"b1\nb2\n"), (1, b"a1\na2\n"), (3, b"c1")):
        (out / f"x.part000{index}of0003.csv.out").write_bytes(text)
    (out / "other.csv.out").write_bytes(b"z\n")
    files = transform.reassemble(sorted(out.iterdir()))
    assert files == [out / "other.csv.out", out / "x.csv.out"]
    assert (out / "x.csv.out").read_bytes() == b"a1\na2\nb1\nb2\nc1\n"
    assert sorted(p.name for p in out.iterdir()) == ["other.csv.out", "x.csv.out"]


def test_an_incomplete_set_of_part_outputs_is_left_as_it_is(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.part0001of0002.csv.out").write_bytes(b"a\n")
    files = transform.reassemble(sorted(out.iterdir()))
    assert files == [out / "x.part0001of0002.csv.out"] and not (out / "x.csv.out").exists()


def test_many_files_share_the_instances_by_size(tmp_path, small_parts):
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    big.write_bytes(lines(3000))
    small.write_bytes(lines(100))
    parts = transform.split_for_instances({"big.csv": big, "small.csv": small}, 3, tmp_path / "parts")
    assert [name for name in parts if name.startswith("big.")] == [f"big.part000{i}of0003.csv" for i in (1, 2, 3)]
    assert parts["small.csv"] == small
    assert isinstance(parts["small.csv"], Path)
