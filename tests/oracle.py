"""torch's side of a parity test: asked live when torch is installed, read from answers
recorded from torch 2.13.0 (``tests/torch_expected/<test module>.json``) when it is not.

A parity test takes the ``oracle`` fixture and asks it *questions*. A question is a
function of the torch module that returns plain data; the same function run on gradlab
gives gradlab's answer::

    def run(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        (a * a).sum().backward()
        return a.grad.tolist()

    def test_square(oracle):
        assert run(gradlab) == oracle(run)      # oracle(run) is run(torch), or its recording

Converting a test written against the ``torch`` fixture is mechanical:

- ``def test_x(torch, ...)`` becomes ``def test_x(oracle, ...)``;
- ``theirs = f(torch, x)`` becomes ``theirs = oracle(lambda torch: f(torch, x))``;
- ``for L in (gradlab, torch): <asserts on L>`` becomes a function ``run(L)`` returning what
  the asserts look at, then ``ours, theirs = run(gradlab), oracle(run)`` and the asserts;
- the helpers take the oracle where they took torch: ``assert_same(oracle, program, arrays)``
  (tests/parity.py), ``both(oracle, program)`` (tests/test_parity_autograd.py);
- a Hypothesis test gets ``@replays_examples`` above ``@given``: its drawn arguments are
  recorded with the answers, and without torch the recorded examples are replayed
  (so draw encodable values: numbers, strings, arrays; not ``st.data()``);
- then record: ``python tools/record_torch_expectations.py`` (all tests, or pass pytest
  arguments such as a test file to record only those), and commit tests/torch_expected/.

Each answer is keyed by the test's pytest node id and the question's number within the
test (or ``oracle(question, key="name")``). Answers may be None, bool, int, float (nan and
inf too), str, bytes, tuples, lists, dicts, numpy arrays, scalars and scalar types,
:class:`tests.parity.Num` and exceptions (which come back as the nearest built-in exception
class with the same arguments). Anything else, a ``torch.Tensor`` say, is refused: turn it
into data inside the question (``t.tolist()``, ``repr(t)``). Live answers make the same
round trip through the encoding, so a test sees the same thing live and recorded.

Modes, chosen once per session:

- *live*: torch is importable. Under ``GRADLAB_REQUIRE_ORACLES`` (CI) every answer is also
  compared with its recording, and a missing or different recording fails (stale data).
- *recorded*: torch is not importable, or ``GRADLAB_ORACLE=recorded``. A missing recording
  fails, naming the script that makes it; it never skips.
- *record*: ``pytest --record-torch`` (what the script runs) writes live answers to the files.
"""

from __future__ import annotations

import base64
import builtins
import functools
import importlib.util
import inspect
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tests.parity import TOLERANCE, Num

RECORDINGS = Path(__file__).resolve().parent / "torch_expected"
TORCH_VERSION = "2.13.0"
RECORD_COMMAND = "python tools/record_torch_expectations.py"
LIVE, RECORDED, RECORD = "live", "recorded", "record"
MAX_EXAMPLES = 300  # recorded examples per Hypothesis test

T = TypeVar("T")


# --- the encoding ----------------------------------------------------------------------------


def encode(x: Any) -> Any:
    """``x`` as JSON-ready data, with tagged objects for what JSON cannot say."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else {"__float__": repr(float(x))}
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in x):
            return {k: encode(v) for k, v in x.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in x.items()]}
    if isinstance(x, bytes):
        return {"__bytes__": base64.b64encode(x).decode("ascii")}
    if isinstance(x, Num):
        return {"__num__": encode(x.array), "dtype": x.dtype, "computed_in": x.computed_in}
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return {
            "__ndarray__": x.dtype.name,
            "shape": list(x.shape),
            "data": [encode(v) for v in x.ravel().tolist()],
        }
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return {"__scalar__": x.dtype.name, "value": encode(x.item())}
    if isinstance(x, type) and issubclass(x, np.generic):
        return {"__scalar_type__": np.dtype(x).name}
    if isinstance(x, BaseException):
        return {"__error__": _builtin_class(type(x)).__name__, "args": encode(_args(x))}
    raise TypeError(
        f"an oracle answer must be plain data, not {type(x).__module__}.{type(x).__qualname__}:"
        " turn it into data inside the question (e.g. t.tolist(), repr(t))"
    )


def decode(x: Any) -> Any:
    """The value :func:`encode` was given (exceptions as their built-in class)."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "__float__" in x:
        return float(x["__float__"])
    if "__tuple__" in x:
        return tuple(decode(v) for v in x["__tuple__"])
    if "__dict__" in x:
        return {_hashable(decode(k)): decode(v) for k, v in x["__dict__"]}
    if "__bytes__" in x:
        return base64.b64decode(x["__bytes__"])
    if "__num__" in x:
        return Num(decode(x["__num__"]), x["dtype"], x["computed_in"])
    if "__ndarray__" in x:
        return np.array(decode(x["data"]), dtype=x["__ndarray__"]).reshape(x["shape"])
    if "__scalar__" in x:
        return np.dtype(x["__scalar__"]).type(decode(x["value"]))
    if "__scalar_type__" in x:
        return np.dtype(x["__scalar_type__"]).type
    if "__error__" in x:
        return getattr(builtins, x["__error__"])(*decode(x["args"]))
    return {k: decode(v) for k, v in x.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def _builtin_class(cls: type) -> type:
    return next(c for c in cls.__mro__ if c.__module__ == "builtins")


def _args(error: BaseException) -> tuple:
    try:
        encode(error.args)
    except TypeError:
        return (str(error),)
    return tuple(error.args)


def differences(ours: Any, recorded: Any, path: str = "answer") -> list[str]:
    """Where a live answer and its recording differ; numbers within a tolerance (another
    CPU may round the last bits differently), everything else exactly."""
    if isinstance(ours, Num) and isinstance(recorded, Num):
        same = ours == recorded and ours.computed_in == recorded.computed_in
    elif isinstance(ours, np.ndarray) and isinstance(recorded, np.ndarray):
        same = ours.dtype == recorded.dtype and ours.shape == recorded.shape
        if same and ours.dtype.name in TOLERANCE:
            rtol, atol = TOLERANCE[ours.dtype.name]
            same = bool(np.allclose(ours, recorded, rtol=rtol, atol=atol, equal_nan=True))
        elif same:
            same = bool(np.array_equal(ours, recorded))
    elif isinstance(ours, float) and isinstance(recorded, float):
        same = math.isclose(ours, recorded, rel_tol=1e-6, abs_tol=1e-9) or (
            math.isnan(ours) and math.isnan(recorded)
        )
    elif type(ours) is not type(recorded):
        same = False
    elif isinstance(ours, (list, tuple)) and len(ours) == len(recorded):
        return [
            line
            for k, (a, b) in enumerate(zip(ours, recorded))
            for line in differences(a, b, f"{path}[{k}]")
        ]
    elif isinstance(ours, dict) and ours.keys() == recorded.keys():
        return [line for k in ours for line in differences(ours[k], recorded[k], f"{path}[{k!r}]")]
    elif isinstance(ours, BaseException):
        same = ours.args == recorded.args
    else:
        same = ours == recorded
    return [] if same else [f"{path}: live torch {ours!r}, recorded {recorded!r}"]


# --- the recordings --------------------------------------------------------------------------


def missing(what: str) -> str:
    return f"no recorded torch answer for {what}: run `{RECORD_COMMAND}` (needs torch)"


class Recordings:
    """The answers of every test module, loaded when first needed, written in record mode."""

    def __init__(self, folder: Path = RECORDINGS) -> None:
        self.folder = folder
        self._modules: dict[str, dict[str, Any]] = {}
        self._fresh: dict[str, dict[str, Any]] = {}  # recorded in this session
        self._known: dict[str, set[str]] = {}  # every collected test, per module

    def path(self, module: str) -> Path:
        return self.folder / f"{module}.json"

    def tests(self, module: str) -> dict[str, Any]:
        if module not in self._modules:
            path = self.path(module)
            data = json.loads(path.read_text()) if path.exists() else {"tests": {}}
            self._modules[module] = data["tests"]
        return self._modules[module]

    def entry(self, module: str, test: str) -> dict[str, Any] | None:
        return self.tests(module).get(test)

    def collected(self, module: str, test: str) -> None:
        self._known.setdefault(module, set()).add(test)

    def store(self, module: str, test: str, entry: dict[str, Any]) -> None:
        self._fresh.setdefault(module, {})[test] = entry

    def write(self) -> list[Path]:
        """Write the modules recorded in this session: fresh answers replace old ones, and
        entries of tests no longer collected are dropped."""
        written = []
        for module, fresh in sorted(self._fresh.items()):
            known = self._known.get(module, set())
            tests = {k: v for k, v in self.tests(module).items() if k in known}
            tests.update(fresh)
            self.folder.mkdir(exist_ok=True)
            path = self.path(module)
            lines = [json.dumps(k) + ": " + _compact(tests[k]) for k in sorted(tests)]
            body = ",\n".join(lines)
            path.write_text(f'{{"torch": "{TORCH_VERSION}", "tests": {{\n{body}\n}}}}\n')
            written.append(path)
        return written


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def session_mode(record: bool) -> str:
    """The oracle's mode for this session (see the module docstring)."""
    if record:
        return RECORD
    if os.environ.get("GRADLAB_ORACLE") == RECORDED:
        return RECORDED
    return LIVE if importlib.util.find_spec("torch") is not None else RECORDED


def torch_module() -> Any:
    import torch

    return torch


# --- the fixture's object --------------------------------------------------------------------


class OracleFailure(AssertionError):
    """A recording is missing or differs from live torch."""


class Oracle:
    """Answers a test's questions from torch (see the module docstring)."""

    def __init__(
        self, recordings: Recordings, module: str, test: str, mode: str, compare: bool
    ) -> None:
        self.recordings = recordings
        self.module = module
        self.test = test
        self.mode = mode
        self.compare = compare and mode == LIVE  # check live answers against recordings
        self._recorded = recordings.entry(module, test)
        self._answers: dict[str, Any] | None = None  # this example's recorded answers
        self._fresh: dict[str, Any] = {}
        self._examples: list[dict[str, Any]] = []
        self._count = 0
        self._free = False  # a live Hypothesis run: nothing recorded or compared
        self.replay((self._recorded or {}).get("answers"))

    @property
    def name(self) -> str:
        return f"{self.module}.py::{self.test}"

    def __call__(self, question: Callable[[Any], T], key: str | None = None) -> T:
        """``question(torch)``: asked live, or read from the recording."""
        key = str(self._count) if key is None else key
        self._count += 1
        where = f"{self.name} (question {key})"
        if self.mode == RECORDED:
            if self._answers is None or key not in self._answers:
                raise OracleFailure(missing(where))
            return decode(self._answers[key])
        answer = encode(self._ask_torch(question))
        if self.mode == RECORD and not self._free:
            self._fresh[key] = answer
        elif self.compare and not self._free:
            if self._answers is None or key not in self._answers:
                raise OracleFailure(missing(where))
            lines = differences(decode(answer), decode(self._answers[key]))
            if lines:
                raise OracleFailure(
                    f"the recorded torch answer for {where} is stale; run "
                    f"`{RECORD_COMMAND}`:\n" + "\n".join(lines[:10])
                )
        return decode(answer)

    def _ask_torch(self, question: Callable[[Any], T]) -> T:
        torch = torch_module()
        dtype = torch.get_default_dtype()
        try:
            return question(torch)
        finally:
            changed = torch.get_default_dtype()
            if changed != dtype:
                torch.set_default_dtype(dtype)
                raise AssertionError(f"the question changed torch's default dtype to {changed}")

    # Hypothesis examples (used by replays_examples)

    def replay(self, answers: dict[str, Any] | None) -> None:
        """Answer (or compare with) these recorded answers from the next question on."""
        self._answers = answers
        self._count = 0

    def explore(self) -> None:
        """Live: answer new examples without recording or comparing them."""
        self._free = True

    def recorded_examples(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The recorded (drawn arguments, answers) pairs of this test."""
        if self._recorded is None or "examples" not in self._recorded:
            raise OracleFailure(missing(f"the examples of {self.name}"))
        return [(decode(e["args"]), e["answers"]) for e in self._recorded["examples"]]

    def start_example(self, arguments: dict[str, Any]) -> None:
        """Record mode: the next answers belong to an example drawn with ``arguments``."""
        if len(self._examples) < MAX_EXAMPLES:
            self._fresh = {}
            self._examples.append({"args": encode(arguments), "answers": self._fresh})
            self._free = False
        else:
            self._free = True
        self._count = 0

    def finish(self) -> None:
        """Record mode: keep this test's answers (a test that asked nothing keeps none)."""
        if self.mode != RECORD:
            return
        if self._examples:
            self.recordings.store(self.module, self.test, {"examples": self._examples})
        elif self._fresh:
            self.recordings.store(self.module, self.test, {"answers": self._fresh})


def replays_examples(test: Callable[..., None]) -> Callable[..., None]:
    """Decorate a Hypothesis test (above ``@given``) that takes the ``oracle`` fixture.

    Live, Hypothesis draws new examples (and in CI the recorded ones run first, compared
    with the recording); recording, the drawn arguments are stored with the answers;
    without torch, the recorded examples are replayed.
    """
    inner = test.hypothesis.inner_test  # type: ignore[attr-defined]

    @functools.wraps(test)
    def run(**fixtures: Any) -> None:
        oracle: Oracle = fixtures["oracle"]
        if oracle.mode == RECORDED or oracle.compare:
            for arguments, answers in oracle.recorded_examples():
                oracle.replay(answers)
                inner(**fixtures, **arguments)
        if oracle.mode == RECORDED:
            return
        if oracle.mode == LIVE:
            oracle.explore()

        def recording(*args: Any, **kwargs: Any) -> None:
            oracle.start_example({k: v for k, v in kwargs.items() if k not in fixtures})
            return inner(*args, **kwargs)

        test.hypothesis.inner_test = recording if oracle.mode == RECORD else inner  # type: ignore[attr-defined]
        try:
            test(**fixtures)
        finally:
            test.hypothesis.inner_test = inner  # type: ignore[attr-defined]

    run.__signature__ = inspect.signature(test)  # type: ignore[attr-defined]
    return run
