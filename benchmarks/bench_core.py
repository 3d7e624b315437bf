#!/usr/bin/env python
"""Core speed of gradlab against PyTorch, run in one process, interleaved.

    python benchmarks/bench_core.py            # default: ~7 timed reps per workload
    python benchmarks/bench_core.py --quick    # fewer reps, smaller workloads (smoke run)
    python benchmarks/bench_core.py --full     # as default, but W2 gets 3 reps instead of 1
    python benchmarks/bench_core.py --profile  # no timing: cProfile gradlab on W1, W4, W5

Workloads (each written once, generic over the library module, so both compute the same):

  W1  chain of 10,000 scalar ops (y = y * 1.0001; y = y + 0.0001) from a float32 0-d leaf:
      forward µs/op, backward µs/op, total
  W2  the same chain 1,000,000 deep: forward + backward seconds
  W3  fan-in: one leaf x used by 10,000 products x * c_i, summed by a Python loop of `+`
      (s = x * c_0; s = s + x * c_i ...): backward time only
  W4  2-16-16-1 tanh MLP, 100 two-moons points, float64, full batch, MSE, SGD: per step
  W5  784-256-10 relu MLP, batch 64, float32, softmax cross-entropy from primitive ops
      (logp = z - z.exp().sum(1, keepdim=True).log()), SGD: per step
  W6  bytes held per recorded op for the W1 chain (tracemalloc; gradlab only)

Method: BLAS and torch pinned to one thread; garbage collection left on (a gc.collect() runs
between reps, outside the timed region); one untimed warm-up rep per library; then the timed
reps alternate between the libraries (rep k runs gradlab first when k is even, torch first
when k is odd) so that machine noise hits both alike. Figures are medians over reps; the
ratio is median(gradlab) / median(torch). After each workload the two libraries' results
(values, gradients, losses) are compared; the exit status is 1 if any comparison fails.
"""

from __future__ import annotations

import os

# Before numpy and torch are imported: one thread for every BLAS / OpenMP pool. The
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE settings of the machine are left as they are.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402
from time import perf_counter  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark this checkout's gradlab

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gradlab  # noqa: E402

try:
    import threadpoolctl  # noqa: E402
except ImportError:  # optional: the environment variables above already pin the pools
    threadpoolctl = None

torch.set_num_threads(1)

LIBS = (gradlab, torch)

# gradlab / torch targets (W6: bytes per op, gradlab alone).
TARGETS = {"W1": 0.4, "W2": 0.5, "W3": 0.2, "W4": 0.6, "W5": 0.85, "W6": 400.0}


# --- configuration ---------------------------------------------------------------------


def config(args: argparse.Namespace) -> dict[str, int]:
    if args.quick:
        cfg = dict(
            reps=3,
            w1_ops=2_000,
            w2_ops=100_000,
            w2_reps=1,
            w3_terms=2_000,
            w4_steps=20,
            w5_steps=5,
            w6_ops=10_000,
        )
    else:
        cfg = dict(
            reps=7,
            w1_ops=10_000,
            w2_ops=1_000_000,
            w2_reps=3 if args.full else 1,
            w3_terms=10_000,
            w4_steps=100,
            w5_steps=30,
            w6_ops=10_000,
        )
    if args.reps is not None:
        cfg["reps"] = args.reps
    return cfg


# --- running and reporting -------------------------------------------------------------

Run = Callable[[Any], tuple[dict[str, float], dict[str, Any]]]


def interleaved(run: Run, reps: int, warmup: bool = True) -> tuple[dict, dict]:
    """Call ``run(lib)`` for both libraries: one untimed warm-up each, then ``reps`` rounds
    alternating which library goes first. ``run`` returns (timings, outputs); this returns,
    per library name, the list of timings dicts and the outputs of its last rep."""
    if warmup:
        for lib in LIBS:
            run(lib)
    timings: dict[str, list[dict[str, float]]] = {lib.__name__: [] for lib in LIBS}
    outputs: dict[str, dict[str, Any]] = {}
    for k in range(reps):
        for lib in LIBS if k % 2 == 0 else LIBS[::-1]:
            gc.collect()
            t, out = run(lib)
            timings[lib.__name__].append(t)
            outputs[lib.__name__] = out
            gc.collect()  # tear the rep's graph down before the other library runs
    return timings, outputs


def med(timings: dict[str, list[dict[str, float]]], lib: str, key: str) -> float:
    return median(t[key] for t in timings[lib])


def spread(timings: dict[str, list[dict[str, float]]], lib: str, key: str) -> tuple:
    values = [t[key] for t in timings[lib]]
    return min(values), max(values)


ROWS: list[tuple[str, str, str, str, str, str]] = []
FAILED_CHECKS: list[str] = []


def report(
    label: str,
    timings: dict,
    key: str,
    scale: float,
    unit: str,
    target: float | None,
    digits: int = 3,
    in_table: bool = True,
) -> float:
    """Print the median of ``key`` for both libraries (times ``scale``, in ``unit``) and
    their ratio; add a row to the final table unless ``in_table`` is false."""
    g, t = med(timings, "gradlab", key) * scale, med(timings, "torch", key) * scale
    ratio = g / t
    g_lo, g_hi = (v * scale for v in spread(timings, "gradlab", key))
    t_lo, t_hi = (v * scale for v in spread(timings, "torch", key))
    n = len(timings["gradlab"])
    print(
        f"  {label:<26} gradlab {g:>10.{digits}f} {unit:<7} "
        f"[{g_lo:.{digits}f}..{g_hi:.{digits}f}]   torch {t:>10.{digits}f} {unit:<7} "
        f"[{t_lo:.{digits}f}..{t_hi:.{digits}f}]   ratio {ratio:6.3f}   (n={n})"
    )
    if not in_table:
        return ratio
    met = "-" if target is None else ("yes" if ratio <= target else "NO")
    ROWS.append(
        (
            label,
            f"{g:.{digits}f} {unit}",
            f"{t:.{digits}f} {unit}",
            f"{ratio:.3f}",
            "-" if target is None else f"<= {target}",
            met,
        )
    )
    return ratio


def check(
    workload: str, what: str, pairs: list[tuple[str, Any, Any]], rtol: float, atol: float = 0.0
) -> None:
    """Compare gradlab's and torch's results (name, gradlab value, torch value) with
    ``np.allclose`` and say so; the difference shown is max|a - b| / max|b| per result."""
    worst, bad = 0.0, []
    for name, a, b in pairs:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            bad.append(f"{name}: shapes {a.shape} vs {b.shape}")
            continue
        rel = float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)) if a.size else 0.0
        worst = max(worst, rel)
        if not np.allclose(a, b, rtol=rtol, atol=atol):
            bad.append(f"{name}: max rel diff {rel:.2e}")
    if bad:
        FAILED_CHECKS.append(workload)
        print(f"  check {workload}: MISMATCH (rtol={rtol:g}, atol={atol:g}): {'; '.join(bad)}")
    else:
        print(
            f"  check {workload}: gradlab and torch agree on {what} "
            f"(max rel diff {worst:.1e}; rtol={rtol:g}, atol={atol:g})"
        )


def leaf(lib: Any, value: float = 1.0) -> Any:
    return lib.tensor(np.array(value, dtype=np.float32), requires_grad=True)


# --- W1, W2: a long chain of scalar ops ----------------------------------------------


def chain(y: Any, n_ops: int) -> Any:
    for _ in range(n_ops // 2):
        y = y * 1.0001
        y = y + 0.0001
    return y


def run_chain(n_ops: int) -> Run:
    def run(lib: Any) -> tuple[dict[str, float], dict[str, Any]]:
        x = leaf(lib)
        t0 = perf_counter()
        y = chain(x, n_ops)
        t1 = perf_counter()
        y.backward()
        t2 = perf_counter()
        out = {"y": y.item(), "x.grad": x.grad.item()}
        return {"fwd": t1 - t0, "bwd": t2 - t1, "total": t2 - t0}, out

    return run


def pairs_of(outputs: dict[str, dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(k, outputs["gradlab"][k], outputs["torch"][k]) for k in outputs["gradlab"]]


def w1(cfg: dict[str, int]) -> None:
    n = cfg["w1_ops"]
    print(f"\nW1  chain of {n:,} scalar ops (float32 0-d leaf), µs per op")
    timings, outputs = interleaved(run_chain(n), cfg["reps"])
    us = 1e6 / n
    report("W1 forward", timings, "fwd", us, "µs/op", None)
    report("W1 backward", timings, "bwd", us, "µs/op", None)
    report("W1 total (fwd+bwd)", timings, "total", us, "µs/op", TARGETS["W1"])
    check("W1", "y and x.grad", pairs_of(outputs), rtol=1e-5)


def w2(cfg: dict[str, int]) -> None:
    n = cfg["w2_ops"]
    print(
        f"\nW2  chain of {n:,} scalar ops, forward + backward seconds "
        f"({cfg['w2_reps']} rep(s) each, no warm-up: W1 warmed up)"
    )
    timings, outputs = interleaved(run_chain(n), cfg["w2_reps"], warmup=False)
    report("W2 forward", timings, "fwd", 1.0, "s", None, in_table=False)
    report("W2 backward", timings, "bwd", 1.0, "s", None, in_table=False)
    report("W2 total (fwd+bwd)", timings, "total", 1.0, "s", TARGETS["W2"])
    check("W2", "y and x.grad", pairs_of(outputs), rtol=1e-4)


# --- W3: fan-in to one leaf --------------------------------------------------------------


def w3(cfg: dict[str, int]) -> None:
    n = cfg["w3_terms"]
    cs = np.random.default_rng(3).uniform(0.5, 1.5, n).tolist()
    print(
        f"\nW3  one leaf used by {n:,} products x * c_i, summed by a Python loop of `+`; "
        "backward ms"
    )

    def run(lib: Any) -> tuple[dict[str, float], dict[str, Any]]:
        x = leaf(lib)
        t0 = perf_counter()
        s = x * cs[0]
        for c in cs[1:]:
            s = s + x * c
        t1 = perf_counter()
        s.backward()
        t2 = perf_counter()
        return {"fwd": t1 - t0, "bwd": t2 - t1}, {"s": s.item(), "x.grad": x.grad.item()}

    timings, outputs = interleaved(run, cfg["reps"])
    report("W3 forward (info)", timings, "fwd", 1e3, "ms", None, in_table=False)
    report("W3 backward", timings, "bwd", 1e3, "ms", TARGETS["W3"])
    pairs = pairs_of(outputs)
    check("W3", "s and x.grad", pairs, rtol=1e-3)
    exact = math.fsum(float(np.float32(c)) for c in cs)
    grads = outputs["gradlab"]["x.grad"], outputs["torch"]["x.grad"]
    print(
        f"  (exact sum of the c_i: {exact:.4f}; x.grad: gradlab {grads[0]:.4f}, "
        f"torch {grads[1]:.4f})"
    )


# --- W4, W5: small MLP training steps -----------------------------------------------------


def two_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's make_moons, in numpy: two interleaved half circles, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    x += rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return x, y


def init_params(
    rng: np.random.Generator, sizes: list[int], dtype: Any, scale: float
) -> list[np.ndarray]:
    """Weights N(0, scale² / fan_in), biases N(0, 0.01): shared by both libraries."""
    arrays = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        arrays.append(
            (rng.standard_normal((fan_in, fan_out)) * scale / math.sqrt(fan_in)).astype(dtype)
        )
        arrays.append((rng.standard_normal(fan_out) * 0.1).astype(dtype))
    return arrays


def sgd(lib: Any, params: list[Any], lr: float) -> None:
    with lib.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def moons_loss(params: list[Any], x: Any, y: Any) -> Any:
    w1_, b1, w2_, b2, w3_, b3 = params
    h = (x @ w1_ + b1).tanh()
    h = (h @ w2_ + b2).tanh()
    out = h @ w3_ + b3
    return ((out - y) ** 2).mean()


def mnist_like_loss(params: list[Any], x: Any, onehot: Any) -> Any:
    w1_, b1, w2_, b2 = params
    h = (x @ w1_ + b1).relu()
    z = h @ w2_ + b2
    logp = z - z.exp().sum(1, keepdim=True).log()
    return -(logp * onehot).sum() / x.shape[0]


def train_run(
    loss_fn: Callable, arrays: list[np.ndarray], data: list[np.ndarray], steps: int, lr: float
) -> Run:
    """A rep: fresh parameters from ``arrays`` (untimed), then ``steps`` timed SGD steps."""

    def run(lib: Any) -> tuple[dict[str, float], dict[str, Any]]:
        params = [lib.tensor(a, requires_grad=True) for a in arrays]
        inputs = [lib.tensor(d) for d in data]
        t0 = perf_counter()
        for _ in range(steps):
            loss = loss_fn(params, *inputs)
            loss.backward()
            sgd(lib, params, lr)
        t1 = perf_counter()
        out = {"final loss": loss.item()}
        out.update({f"param{i} after": p.detach().numpy().copy() for i, p in enumerate(params)})
        return {"step": (t1 - t0) / steps}, out

    return run


def grads_at_init(
    loss_fn: Callable, arrays: list[np.ndarray], data: list[np.ndarray]
) -> list[tuple[str, Any, Any]]:
    """Loss and gradients of one forward/backward from the initial parameters, both libraries."""
    results = {}
    for lib in LIBS:
        params = [lib.tensor(a, requires_grad=True) for a in arrays]
        loss = loss_fn(params, *(lib.tensor(d) for d in data))
        loss.backward()
        results[lib.__name__] = [loss.item()] + [p.grad.numpy().copy() for p in params]
    names = ["loss at init"] + [f"grad{i} at init" for i in range(len(arrays))]
    return list(zip(names, results["gradlab"], results["torch"], strict=True))


def w4(cfg: dict[str, int]) -> None:
    steps = cfg["w4_steps"]
    print(
        f"\nW4  2-16-16-1 tanh MLP, 100 two-moons points, float64, MSE + SGD; "
        f"µs per step ({steps} steps per rep)"
    )
    x, labels = two_moons(100, noise=0.1, seed=0)
    y = (2 * labels - 1).reshape(-1, 1)  # targets ±1
    arrays = init_params(np.random.default_rng(4), [2, 16, 16, 1], np.float64, scale=1.0)
    data = [x.astype(np.float64), y.astype(np.float64)]
    run = train_run(moons_loss, arrays, data, steps, lr=0.1)
    timings, outputs = interleaved(run, cfg["reps"])
    report("W4 train step", timings, "step", 1e6, "µs", TARGETS["W4"], digits=1)
    check(
        "W4",
        "loss and 6 grads at init, final loss and 6 params after training",
        grads_at_init(moons_loss, arrays, data) + pairs_of(outputs),
        rtol=1e-7,
        atol=1e-12,
    )
    print(f"  (loss {outputs['gradlab']['final loss']:.4f} after {steps} steps)")


def w5(cfg: dict[str, int]) -> None:
    steps = cfg["w5_steps"]
    print(
        f"\nW5  784-256-10 relu MLP, batch 64, float32, softmax cross-entropy + SGD; "
        f"ms per step ({steps} steps per rep)"
    )
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    # small init scale on the output layer: logits stay O(1), so exp is safe
    arrays = init_params(rng, [784, 256], np.float32, scale=1.0)
    arrays += init_params(rng, [256, 10], np.float32, scale=0.5)
    run = train_run(mnist_like_loss, arrays, [x, onehot], steps, lr=0.1)
    timings, outputs = interleaved(run, cfg["reps"])
    report("W5 train step", timings, "step", 1e3, "ms", TARGETS["W5"])
    check(
        "W5",
        "loss and 4 grads at init, final loss and 4 params after training",
        grads_at_init(mnist_like_loss, arrays, [x, onehot]) + pairs_of(outputs),
        rtol=1e-4,
        atol=1e-6,
    )
    print(
        f"  (loss {outputs['gradlab']['final loss']:.4f} after {steps} steps, "
        f"ln 10 = {math.log(10):.4f})"
    )


# --- W6: memory per recorded op -----------------------------------------------------------


def w6(cfg: dict[str, int]) -> None:
    n = cfg["w6_ops"]
    print(f"\nW6  memory held per recorded op, {n:,}-op chain (tracemalloc, gradlab only)")
    held, peak = [], []
    chain(leaf(gradlab), 100)  # warm any lazily created state outside the measurement
    for _ in range(3):
        gc.collect()
        x = leaf(gradlab)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        y = chain(x, n)
        current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        held.append((current - before) / n)
        peak.append((top - before) / n)
        del x, y
    g = median(held)
    print(
        f"  {'W6 bytes per op':<26} gradlab {g:>10.1f} B/op    (runs: "
        f"{', '.join(f'{v:.1f}' for v in held)}; peak {median(peak):.1f} B/op)   "
        "torch n/a (its C++ memory is invisible to tracemalloc)"
    )
    ROWS.append(
        (
            "W6 bytes per op",
            f"{g:.1f} B/op",
            "n/a",
            "-",
            f"<= {TARGETS['W6']:.0f} B/op",
            "yes" if g <= TARGETS["W6"] else "NO",
        )
    )


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6}


# --- environment and profiling ------------------------------------------------------------


def describe_environment() -> None:
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; numpy {np.__version__}; torch {torch.__version__} "
        f"(torch.get_num_threads() = {torch.get_num_threads()})"
    )
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "gradlab"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        state = f"git {commit}" + (", with uncommitted changes under gradlab/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        state = "git state unknown"
    print(f"gradlab {gradlab.__version__} from {Path(gradlab.__file__).parent} ({state})")
    names = (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
    )
    print("env: " + "  ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in names))
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        print(
            f"numpy BLAS (build): {blas.get('name')} {blas.get('version')}"
            f" [{blas.get('openblas configuration', '').strip()}]"
        )
    except Exception as error:  # older numpy: no dicts mode
        print(f"numpy BLAS (build): unknown ({error})")
    if threadpoolctl is None:
        print("threadpoolctl: not installed (pools pinned by the environment variables only)")
        return
    print("threadpoolctl pools (during the run):")
    for pool in threadpoolctl.threadpool_info():
        print(
            f"  {pool.get('internal_api')} {pool.get('version')} "
            f"arch={pool.get('architecture', '-')} threads={pool.get('num_threads')} "
            f"{pool.get('filepath')}"
        )


def profile(cfg: dict[str, int], top: int) -> None:
    """cProfile gradlab alone on W1, W4, W5 (after a warm-up run), top functions by tottime."""
    x, labels = two_moons(100, noise=0.1, seed=0)
    moons = [x, (2 * labels - 1).reshape(-1, 1).astype(np.float64)]
    moons_arrays = init_params(np.random.default_rng(4), [2, 16, 16, 1], np.float64, 1.0)
    rng = np.random.default_rng(5)
    mnist = [
        rng.standard_normal((64, 784)).astype(np.float32),
        np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)],
    ]
    mnist_arrays = init_params(rng, [784, 256], np.float32, 1.0) + init_params(
        rng, [256, 10], np.float32, 0.5
    )
    jobs = {
        "W1": run_chain(cfg["w1_ops"]),
        "W4": train_run(moons_loss, moons_arrays, moons, cfg["w4_steps"], 0.1),
        "W5": train_run(mnist_like_loss, mnist_arrays, mnist, cfg["w5_steps"], 0.1),
    }
    for name, run in jobs.items():
        run(gradlab)
        profiler = cProfile.Profile()
        profiler.enable()
        run(gradlab)
        profiler.disable()
        print(f"\n=== cProfile, gradlab, {name}: top {top} by tottime ===")
        pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer reps, smaller workloads")
    parser.add_argument("--full", action="store_true", help="3 reps of the 1M-op chain (W2)")
    parser.add_argument("--reps", type=int, help="timed reps per workload (default 7)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W4")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, cProfile gradlab on W1, W4 and W5",
    )
    parser.add_argument("--top", type=int, default=20, help="rows per profile (--profile)")
    args = parser.parse_args()
    cfg = config(args)

    limiter = (
        threadpoolctl.threadpool_limits(limits=1)
        if threadpoolctl is not None
        else contextlib.nullcontext()
    )
    with limiter:
        describe_environment()
        if args.profile:
            profile(cfg, args.top)
            return 0
        selected = args.only.upper().split(",") if args.only else list(WORKLOADS)
        unknown = [w for w in selected if w not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s): {', '.join(unknown)}")
        print(
            f"\nmode: {'quick' if args.quick else 'full' if args.full else 'default'}; "
            f"{cfg['reps']} timed reps per workload after 1 warm-up (W2: {cfg['w2_reps']}); "
            "figures are medians [min..max]; ratio = gradlab / torch"
        )
        start = perf_counter()
        for name in selected:
            WORKLOADS[name](cfg)
        elapsed = perf_counter() - start

    header = ("workload", "gradlab", "torch", "ratio", "target", "met?")
    widths = [max(len(r[i]) for r in [header, *ROWS]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"\nSummary (ratio = gradlab / torch, medians; {elapsed:.0f} s in all)")
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in ROWS:
        print(line.format(*row))
    if FAILED_CHECKS:
        print(f"\nRESULT CHECKS FAILED: {', '.join(FAILED_CHECKS)}")
        return 1
    print("\nAll result checks passed: gradlab and torch computed the same values.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
