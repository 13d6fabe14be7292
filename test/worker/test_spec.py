"""A malformed launch spec is one "launch spec: …" line naming what is wrong (the field by its path,
or "not JSON"), in the error event and the traceback's last line alike, never a bare KeyError
('model') or json's JSONDecodeError: the worker run directly (as --print-launch prints it) on a
hand-edited spec."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import PREFIX, ROOT, make_spec
from executor.worker.spec import load_spec, parse_spec


def without(d: dict, *path: str) -> dict:
    """A deep copy of `d` without the key at `path`."""
    out = json.loads(json.dumps(d))
    inner = out
    for k in path[:-1]:
        inner = inner[k]
    del inner[path[-1]]
    return out


@pytest.mark.parametrize("path,named", [
    (("model",), '"model"'),
    (("plan",), '"plan"'),
    (("training",), '"training"'),
    (("model", "layers"), '"model.layers"'),
    (("model", "seqLen"), '"model.seqLen"'),
    (("plan", "microBatch"), '"plan.microBatch"'),
    (("training", "globalBatch"), '"training.globalBatch"'),
])
def test_a_missing_field_is_named_by_its_path(path, named):
    with pytest.raises(ValueError) as e:
        parse_spec(without(make_spec(), *path))
    assert str(e.value) == f"launch spec: missing {named}"


def test_a_field_of_the_wrong_kind_is_a_launch_spec_error_not_a_type_error():
    cases = [
        ([1, 2], "launch spec: not a JSON object (a list)"),
        (make_spec() | {"model": 5}, 'launch spec: "model" is not an object'),
        (make_spec() | {"faultInjection": {"step": 2}}, 'launch spec: missing "faultInjection.rank"'),
    ]
    for raw, message in cases:
        with pytest.raises(ValueError) as e:
            parse_spec(raw)
        assert str(e.value) == message
    bad = make_spec()
    bad["model"]["layers"] = "four"
    with pytest.raises(ValueError) as e:
        parse_spec(bad)
    assert str(e.value) == 'launch spec: "model.layers" must be an integer ≥ 1, got "four"'
    # The checks after parsing keep their own words.
    with pytest.raises(ValueError, match=r"^launch spec: unknown execution.optimizer 'sgd'$"):
        parse_spec(make_spec() | {"execution": {"optimizer": "sgd"}})


def test_a_file_that_is_not_json_or_cannot_be_read(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{bad")
    with pytest.raises(ValueError) as e:
        load_spec(bad)
    assert str(e.value) == f"launch spec: not JSON ({bad}: Expecting property name enclosed in double quotes at line 1 column 2)"
    with pytest.raises(ValueError, match=r"^launch spec: cannot read .*missing\.json \(No such file or directory\)$"):
        load_spec(tmp_path / "missing.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(make_spec()))
    assert load_spec(good).model.layers == 4


def test_the_worker_run_directly_says_it_in_its_error_event_and_last_line(tmp_path):
    # The record wrapper (torch.distributed.elastic's @record) still raises: a traceback and exit
    # status 1, with the error event before it; only the message changed.
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(without(make_spec(), "model")))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "executor.worker", "--spec", str(spec)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    events = [json.loads(line[len(PREFIX):]) for line in r.stderr.splitlines() if line.startswith(PREFIX)]
    assert events == [{"event": "error", "rank": 0, "kind": "exception", "message": 'ValueError: launch spec: missing "model"'}]
    assert r.stderr.strip().splitlines()[-1] == 'ValueError: launch spec: missing "model"'
    assert "KeyError" not in r.stderr


def with_field(path: tuple, value) -> dict:
    """make_spec() with the field at `path` set to `value`."""
    out = make_spec()
    inner = out
    for k in path[:-1]:
        inner = inner.setdefault(k, {})
    inner[path[-1]] = value
    return out


@pytest.mark.parametrize("path,value,message", [
    # int() truncated 8.7 to a global batch of 8, a run of another size than the spec's
    (("training", "globalBatch"), 8.7, '"training.globalBatch" must be an integer ≥ 1, got 8.7'),
    # zero divided by zero in the checks after parsing (ZeroDivisionError), or ran no layers
    (("plan", "microBatch"), 0, '"plan.microBatch" must be an integer ≥ 1, got 0'),
    (("plan", "tp"), 0, '"plan.tp" must be an integer ≥ 1, got 0'),
    (("model", "heads"), 0, '"model.heads" must be an integer ≥ 1, got 0'),
    (("training", "seqLen"), 0, '"training.seqLen" must be an integer ≥ 1, got 0'),
    (("model", "hidden"), -64, '"model.hidden" must be an integer ≥ 1, got -64'),
    (("plan", "zero"), True, '"plan.zero" must be an integer ≥ 0, got true'),
    (("plan", "stageLayers"), [2, 2.5], '"plan.stageLayers" must be an integer ≥ 1, got 2.5'),
    # bool("false") is True: a run asked not to compile was compiled, sequence parallel switched on
    (("execution", "compile"), "false", '"execution.compile" must be true or false, got "false"'),
    (("plan", "sequenceParallel"), "false", '"plan.sequenceParallel" must be true or false, got "false"'),
    (("training", "lr"), -1, '"training.lr" must be a finite number > 0, got -1'),
    (("startupTimeout",), -5, '"startupTimeout" must be a finite number > 0, got -5'),
    (("device",), 5, '"device" must be a string, got 5'),
])
def test_a_value_of_the_wrong_kind_or_range_is_refused_not_coerced(path, value, message):
    with pytest.raises(ValueError) as e:
        parse_spec(with_field(path, value))
    assert str(e.value) == f"launch spec: {message}"


def test_an_integral_float_is_its_integer():
    # json.dump of a Python float writes 8.0: the same count as 8
    assert parse_spec(with_field(("training", "globalBatch"), 8.0)).training.global_batch == 8


def test_the_version_is_the_one_this_worker_reads():
    # A spec of another launcher's format, or one without its version, would run with its
    # fields read as version 1's.
    for v, said in [(2, "version 2"), ("1", 'version "1"'), (True, "version true")]:
        with pytest.raises(ValueError) as e:
            parse_spec(make_spec() | {"version": v})
        assert str(e.value) == f"launch spec: {said}, but this worker reads version 1: write the spec with the paraplan whose worker runs it"
    with pytest.raises(ValueError, match=r'^launch spec: missing "version" \(this worker reads version 1'):
        parse_spec(without(make_spec(), "version"))
    assert parse_spec(make_spec()).world == 1


@pytest.mark.parametrize("precision", ["fp16", "fp32", "garbage"])
def test_a_precision_the_worker_does_not_train_in_is_refused(precision):
    # fp16 ran under bf16 autocast on CUDA: another run than the one asked for
    with pytest.raises(ValueError) as e:
        parse_spec(with_field(("training", "precision"), precision))
    assert str(e.value) == (f"launch spec: training.precision '{precision}': the worker trains in bf16 or fp8 "
                            "(bf16 autocast on CUDA, fp32 on CPU; no fp16 loss scaling)")


def test_compiled_selective_recompute_beside_tp_on_cpu_is_refused():
    # torch 2.13's AOTAutograd raised in step 1 (a DeviceMesh among the saved values); the
    # launcher refuses the pair too (planner/layout/capabilities.ts worker_compile_sac_tp)
    sac = make_spec(plan={"tp": 2, "recompute": "selective"}) | {"execution": {"compile": True}}
    with pytest.raises(ValueError, match=r"^launch spec: torch 2\.13 cannot compile selectively recomputed blocks beside tensor parallel on CPU"):
        parse_spec(sac)
    assert parse_spec(sac | {"execution": {"compile": False}}).plan.recompute == "selective"
    assert parse_spec(make_spec(plan={"tp": 2, "recompute": "full"}) | {"execution": {"compile": True}}).execution.compile
