"""Fuzzed disruption catalogs: ``calibrate`` fits them or fails with one error, writing nothing.

Mutations of ``seeds/disruption_events.csv`` (and of its first dozen rows, which fit faster):
cells set to junk, edge numbers and out-of-range dates; columns dropped, renamed, duplicated
or added; rows duplicated, dropped, all removed, or given too many or too few fields; and raw
damage: non-UTF-8 bytes, NUL bytes, unbalanced quotes, a field longer than the CSV module
allows, BOMs, CRLF line ends, an empty file, binary garbage.
"""

from __future__ import annotations

import csv
import io

from conftest import KAZAKHSTAN_YAML, ROOT
from fuzz_support import check_contract, fuzz_settings, run_cli
from hypothesis import given
from hypothesis import strategies as st

from sim.config import read_yaml

CATALOG = ROOT / "seeds" / "disruption_events.csv"
ROWS = list(csv.reader(io.StringIO(CATALOG.read_text(encoding="utf-8"))))
HEADER, BODY = ROWS[0], ROWS[1:]
CELLS = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1e-300",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "true",
    "TRUE",
    "maybe",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "1677-09-21",
    "2262-04-12",
    "9999-12-31",
    "1999-12-31",
    "2031-01-01",
    "cpc_terminal",
    "unknown_asset",
    "weather",
    "war",
    "E01",
    "x" * 10_000,
    "=cmd|' /C calc'!A0",
    "line\nbreak",
    "\x1b[31m",
]


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


@st.composite
def mutated_catalogs(draw, body: list[list[str]]):
    """A catalog CSV with one to three structural or cell mutations; returns (bytes, kinds)."""
    header, rows = list(HEADER), [list(r) for r in body]
    kinds = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["cell", "cell", "cell", "drop_col", "rename_col", "dup_col", "extra_col"]
                + ["dup_row", "drop_row", "no_rows", "long_row", "short_row"]
            )
        )
        kinds.append(kind)
        c = draw(st.integers(0, len(header) - 1))
        r = draw(st.integers(0, max(0, len(rows) - 1)))
        if kind == "cell" and rows:
            rows[r][min(c, len(rows[r]) - 1)] = draw(st.sampled_from(CELLS))
        elif kind == "drop_col":
            del header[c]
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif kind == "rename_col":
            header[c] = draw(st.sampled_from(["", "Start_Date", "asset ", "é", header[0]]))
        elif kind == "dup_col":
            header.append(header[c])
            rows = [[*row, row[c] if c < len(row) else ""] for row in rows]
        elif kind == "extra_col":
            header.append("extra")
            rows = [[*row, "x"] for row in rows]
        elif kind == "dup_row" and rows:
            rows.insert(r, list(rows[r]))
        elif kind == "drop_row" and rows:
            del rows[r]
        elif kind == "no_rows":
            rows = []
        elif kind == "long_row" and rows:
            rows[r] = [*rows[r], "surplus", "fields"]
        elif kind == "short_row" and rows:
            rows[r] = rows[r][: max(1, c)]
    return _csv([header, *rows]), kinds


@st.composite
def damaged_catalogs(draw, body: list[list[str]]):
    """A catalog CSV damaged as raw bytes; returns (bytes, kind)."""
    text = _csv([HEADER, *body])
    pos = draw(st.integers(0, len(text)))
    kind = draw(
        st.sampled_from(
            ["bad_bytes", "nul", "quote", "huge_field", "bom", "crlf", "empty", "garbage", "cut"]
        )
    )
    if kind == "bad_bytes":
        text = text[:pos] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80"])) + text[pos:]
    elif kind == "nul":
        text = text[:pos] + b"\x00" + text[pos:]
    elif kind == "quote":
        text = text[:pos] + b'"' + text[pos:]
    elif kind == "huge_field":
        text = text + b"E99,2020-01-01,,1,false,cpc_terminal,weather,1,,," + b"y" * 200_000 + b",\n"
    elif kind == "bom":
        text = b"\xef\xbb\xbf" + text
    elif kind == "crlf":
        text = text.replace(b"\n", b"\r\n")
    elif kind == "empty":
        text = b""
    elif kind == "garbage":
        text = bytes(range(256)) * 4
    else:
        text = text[:pos]
    return text, [kind]


def _calibrate(tmp_path, kind: str, content: bytes) -> str:
    catalog = tmp_path / "catalog.csv"
    catalog.write_bytes(content)
    out = tmp_path / "fitted.yaml"
    argv = ["calibrate", catalog, "--config", KAZAKHSTAN_YAML, "--out", out]
    rc, stdout, err = run_cli(argv, timeout=120)
    outcome = check_contract(kind, rc, stdout, err, names=(str(catalog), "--"))
    if outcome == "error":
        assert not out.exists()
    else:
        assert isinstance(read_yaml(out).get("hazards"), dict)
    return outcome


@fuzz_settings(40)
@given(st.one_of(mutated_catalogs(BODY[:12]), damaged_catalogs(BODY[:12])))
def test_fuzzed_catalog_calibrates_or_fails_clearly(tmp_path_factory, case):
    content, _ = case
    _calibrate(tmp_path_factory.mktemp("cat"), "catalog", content)


@fuzz_settings(6)
@given(mutated_catalogs(BODY))
def test_fuzzed_full_catalog_calibrates_or_fails_clearly(tmp_path_factory, case):
    content, _ = case
    _calibrate(tmp_path_factory.mktemp("catfull"), "catalog:full", content)
