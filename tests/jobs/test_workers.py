"""ForkedWorkers: answers in order, bounded in flight, failures surface with the worker's traceback."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from reelrank.jobs.workers import ForkedWorkers, WorkerFailed

STATE = {"prepared": False}


def _work(block: bytes) -> bytes:
    if block == b"boom":
        raise ValueError("the block was bad")
    if block == b"die":
        os._exit(3)
    prepared = b"prepared" if STATE["prepared"] else b"cold"
    return block.upper() + b":" + prepared + b":" + str(os.getpid()).encode()


def _prepare() -> None:
    STATE["prepared"] = True


def test_answers_come_back_in_order_from_every_worker() -> None:
    blocks = [f"block {n}".encode() * (1 + n % 7) * 3000 for n in range(60)]  # some larger than a pipe's buffer
    with ForkedWorkers(_work, 3, prepare=_prepare) as workers:
        answers = list(workers.map(iter(blocks)))
        pids = set(workers.pids)
    assert [answer.split(b":")[0] for answer in answers] == [block.upper() for block in blocks]
    assert {answer.split(b":")[1] for answer in answers} == {b"prepared"}
    assert {int(answer.split(b":")[2]) for answer in answers} == pids and os.getpid() not in pids
    for pid in pids:  # reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_failing_block_raises_with_the_worker_traceback() -> None:
    with pytest.raises(WorkerFailed, match="the block was bad"), ForkedWorkers(_work, 2) as workers:
        list(workers.map(iter([b"a", b"b", b"boom", b"c"])))


def test_a_dead_worker_is_reported() -> None:
    with pytest.raises(WorkerFailed, match="ended unexpectedly"), ForkedWorkers(_work, 2) as workers:
        list(workers.map(iter([b"a", b"die", b"c", b"d"])))


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie left to a parent that does not reap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_with_the_process_that_forked_them() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a stand-in for a job process: forks its workers, then is killed
        try:
            with ForkedWorkers(_work, 2) as workers:
                os.write(write, ",".join(map(str, workers.pids)).encode())
                time.sleep(60)
        finally:
            os._exit(0)
    os.close(write)
    pids = [int(number) for number in os.read(read, 200).decode().split(",")]
    os.close(read)
    assert len(pids) == 2 and not any(_gone(worker) for worker in pids)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 10
    while not all(_gone(worker) for worker in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(worker) for worker in pids)
