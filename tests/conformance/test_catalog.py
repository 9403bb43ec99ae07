"""The conformance table is true: every case it calls automated has its test.

tests/conformance/README.md lists the OCPP 2.0.1 Part 6 CSMS test cases; a row
marked "automated" must name a test function ``test_tc_<block>_<n>_...`` that
exists somewhere under tests/, and every such test must be in the table.
"""

import json
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (TC_[A-Z]_\d+_CSMS) \| [^|]+ \| ([\w/ -]+?) \|", re.M)


def _table() -> dict[str, str]:
    text = (TESTS / "conformance" / "README.md").read_text()
    return dict(ROW.findall(text))


def _test_functions() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        names.update(re.findall(r"def (test_tc_[a-z]_\d+_\w+)", path.read_text()))
    return names


def _case_of(function: str) -> str:
    block, number = re.match(r"test_tc_([a-z])_(\d+)_", function).groups()
    return f"TC_{block.upper()}_{int(number):02d}_CSMS"


def test_table_lists_every_part6_csms_case():
    cases = json.loads((TESTS / "conformance" / "part6_csms_cases.json").read_text())
    assert set(_table()) == set(cases)


def test_every_automated_case_has_a_test_and_every_test_is_listed():
    automated = {case for case, status in _table().items() if status == "automated"}
    tested = {_case_of(name) for name in _test_functions()}
    assert automated == tested
