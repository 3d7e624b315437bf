"""The recorded torch expectations (tests/oracle.py): the encoding, the staleness check,
and the recorded mode's answers and failures. These run without torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.oracle import (
    RECORD,
    RECORD_COMMAND,
    RECORDED,
    Oracle,
    OracleFailure,
    Recordings,
    decode,
    differences,
    encode,
)
from tests.parity import Num

ANSWERS = [
    None,
    True,
    3,
    2**64 - 1,
    -0.0,
    1.5,
    "tensor(1.)",
    b"\x00\xff",
    (1, (2.0, None)),
    [1, [2, (3,)]],
    {"a": 1, "b": [True]},
    {(0, 1): "tuple key", "__x": 1},
    np.array([[1.0, float("nan")], [float("inf"), -2.5]], np.float32),
    np.zeros((0, 3), np.int64),
    np.array(True),
    np.float16(0.5),
    np.int32,
    Num(np.array([1.0, 2.0]), "float64", "float32"),
]


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: type(a).__name__)
def test_answers_survive_the_json_round_trip(answer):
    back = decode(encode(answer))
    assert type(back) is type(answer)
    assert differences(back, answer) == []
    if isinstance(answer, np.ndarray):
        assert back.dtype == answer.dtype and back.shape == answer.shape
    if isinstance(answer, float):
        assert math.copysign(1, back) == math.copysign(1, answer)


def test_special_floats_are_tagged_so_the_files_stay_strict_json():
    assert encode([float("nan"), float("-inf")]) == [{"__float__": "nan"}, {"__float__": "-inf"}]


def test_exceptions_come_back_as_their_builtin_class():
    class TorchError(RuntimeError):
        pass

    back = decode(encode(TorchError("one of the variables needed")))
    assert type(back) is RuntimeError
    assert str(back) == "one of the variables needed"


def test_objects_that_are_not_data_are_refused():
    class Tensor:
        pass

    with pytest.raises(TypeError, match="must be plain data, not .*Tensor: turn it into data"):
        encode({"grad": Tensor()})


def test_differences_tolerate_last_bits_but_not_real_changes():
    assert differences(0.1 + 0.2, 0.3) == []
    assert differences(np.float32([1.0]) * np.float32(1.0000001), np.float32([1.0])) == []
    assert differences([1.0, "AddBackward0"], [1.5, "AddBackward0"]) == [
        "answer[0]: live torch 1.0, recorded 1.5"
    ]
    assert differences((1,), [1]) != []
    assert differences(np.array([1.0]), np.array([1.0], np.float32)) != []


def _oracle(tmp_path, mode, test="test_x"):
    return Oracle(Recordings(tmp_path), "test_mod", test, mode, compare=False)


def test_a_missing_recording_fails_and_names_the_script(tmp_path):
    with pytest.raises(OracleFailure, match="test_mod.py::test_x") as failure:
        _oracle(tmp_path, RECORDED)(lambda torch: torch.ones(2))
    assert RECORD_COMMAND in str(failure.value)


def test_recorded_answers_are_read_by_question_number_and_key(tmp_path):
    recordings = Recordings(tmp_path)
    recordings.collected("test_mod", "test_x")
    recordings.store("test_mod", "test_x", {"answers": {"0": [1.0], "named": encode((2,))}})
    [path] = recordings.write()
    assert path == tmp_path / "test_mod.json"
    oracle = _oracle(tmp_path, RECORDED)
    assert oracle(lambda torch: 1 / 0) == [1.0]  # the question is not asked
    assert oracle(lambda torch: 1 / 0, key="named") == (2,)
    with pytest.raises(OracleFailure, match=r"question 2"):
        oracle(lambda torch: 1 / 0)


def test_recording_keeps_other_tests_and_drops_tests_that_are_gone(tmp_path):
    first = Recordings(tmp_path)
    for test in ("test_kept", "test_gone"):
        first.collected("test_mod", test)
        first.store("test_mod", test, {"answers": {"0": test}})
    first.write()
    second = Recordings(tmp_path)
    second.collected("test_mod", "test_kept")
    second.collected("test_mod", "test_new")
    oracle = Oracle(second, "test_mod", "test_new", RECORD, compare=False)
    oracle._fresh["0"] = "fresh"  # what a live question would have stored
    oracle.finish()
    second.write()
    assert set(Recordings(tmp_path).tests("test_mod")) == {"test_kept", "test_new"}
