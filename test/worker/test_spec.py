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
    with pytest.raises(ValueError, match=r"^launch spec: a field has the wrong type \(invalid literal for int\(\)"):
        parse_spec(bad)
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
