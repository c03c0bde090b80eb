"""A real Dask LocalCluster (2 worker processes) gives byte-identical output to local runs.

Without ``dask.distributed`` these tests skip locally and **fail** in CI (``CI`` set):
a CI run must never pass without having run them (tests/integration/conftest.py).
"""

from __future__ import annotations

import logging
import os

import pytest

from contractrules.batch import run_batch
from tests.integration.batch_fixtures import AS_OF, BAD_EVENTS, GOOD_EVENTS, events_file, invoice, mixed_dir

try:
    import distributed
except ImportError:  # pragma: no cover - the dask extra is missing
    distributed = None

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def cluster():
    if distributed is None:
        why = "dask.distributed is not installed (pip install 'contractrules[dask]')"
        if os.environ.get("CI"):
            pytest.fail(f"Dask is required in CI and {why}", pytrace=False)
        pytest.skip(why)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as c:
        yield c


def _inputs(tmp_path):
    # more contracts than chunks, so both workers get work and results arrive out of order
    events = {**GOOD_EVENTS, "acme-bad-events": BAD_EVENTS, "ghost": [invoice("g1")]}
    d = mixed_dir(tmp_path)
    from tests.integration.batch_fixtures import contract, write_contract

    for i in range(20):
        cid = f"extra-{i:02d}"
        write_contract(d, f"{cid}.yaml", contract(cid))
        events[cid] = [invoice(f"x{i}", f"INV-{i}", amount=f"{100 + i}.00")]
    return d, events_file(tmp_path, events, ["not json"])


def test_dask_local_cluster_matches_local_processes_byte_for_byte(tmp_path, cluster):
    d, ev = _inputs(tmp_path)
    local = run_batch(d, ev, AS_OF, tmp_path / "local.jsonl", workers=1)
    on_dask = run_batch(d, ev, AS_OF, tmp_path / "dask.jsonl", dask=cluster.scheduler_address, chunk_size=3)
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "dask.errors.jsonl").read_bytes() == (tmp_path / "local.errors.jsonl").read_bytes()
    assert on_dask == local  # every count and sum (worker diagnostics aside)
    assert on_dask.evaluated == 22 and len(on_dask.failed) == 2
    assert len(on_dask.workers) == 2  # both Dask workers reported their peak RSS


def test_dask_parquet_tables_match_local_ones(tmp_path, cluster):
    import pyarrow.parquet as pq

    d, ev = _inputs(tmp_path)
    run_batch(d, ev, AS_OF, tmp_path / "local", workers=2)
    run_batch(d, ev, AS_OF, tmp_path / "dask", dask=cluster.scheduler_address, chunk_size=4)
    for name in ("contracts", "obligations", "violations", "penalties"):
        assert pq.read_table(tmp_path / "dask" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "local" / f"{name}.parquet")
        ), name
