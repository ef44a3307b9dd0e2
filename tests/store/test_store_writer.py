"""The group-commit writer, against a fake database: batching and failure isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.store.writer import Failed, GroupCommitWriter, WriterClosed


class FakeDatabase:
    """Records each transaction's jobs; "commits" after a short pause."""

    dialect = "fake"

    def __init__(self) -> None:
        self.transactions: list[list[Any]] = []
        self.committed: list[Any] = []

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(None, *args)

    async def transaction(self, fn: Callable[..., Any], *args: Any) -> Any:
        jobs = args[0]
        self.transactions.append(list(jobs))
        result = fn(None, *args)  # raising here means "rolled back"
        await asyncio.sleep(0.01)  # the commit; new jobs queue meanwhile
        self.committed.extend(jobs)
        return result

    async def dispose(self) -> None:
        pass


def run_batch(_conn: Any, jobs: list[Any]) -> list[Any]:
    if "crash" in jobs:
        raise RuntimeError("constraint violated")
    return [Failed(KeyError(job)) if job == "missing" else job.upper() for job in jobs]


async def started(db: FakeDatabase) -> GroupCommitWriter:
    writer = GroupCommitWriter(db, run_batch)  # type: ignore[arg-type]
    writer.start()
    return writer


async def test_concurrent_jobs_share_transactions_and_see_commits() -> None:
    db = FakeDatabase()
    writer = await started(db)
    jobs = [f"job{n}" for n in range(50)]

    async def submit(job: str) -> str:
        result = await writer.submit(job)
        assert job in db.committed  # resolved only after its commit
        return result

    results = await asyncio.gather(*(submit(j) for j in jobs))
    await writer.close()
    assert results == [j.upper() for j in jobs]
    assert len(db.transactions) < len(jobs)  # batched
    assert [j for t in db.transactions for j in t] == jobs  # in submission order


async def test_a_raising_job_fails_alone() -> None:
    db = FakeDatabase()
    writer = await started(db)
    results = await asyncio.gather(
        *(writer.submit(j) for j in ["a", "crash", "b", "c"]), return_exceptions=True
    )
    await writer.close()
    assert results[0] == "A" and results[2] == "B" and results[3] == "C"
    assert isinstance(results[1], RuntimeError)
    assert "crash" not in db.committed


async def test_a_failed_result_fails_only_its_caller_without_a_retry() -> None:
    db = FakeDatabase()
    writer = await started(db)
    results = await asyncio.gather(
        *(writer.submit(j) for j in ["a", "missing", "b"]), return_exceptions=True
    )
    await writer.close()
    assert results[0] == "A" and results[2] == "B" and isinstance(results[1], KeyError)
    assert len(db.transactions) <= 2  # no job-by-job retry


async def test_close_finishes_queued_work_then_refuses() -> None:
    db = FakeDatabase()
    writer = await started(db)
    pending = [asyncio.ensure_future(writer.submit(f"j{n}")) for n in range(10)]
    await asyncio.sleep(0)
    await writer.close()
    assert await asyncio.gather(*pending) == [f"J{n}" for n in range(10)]
    with pytest.raises(WriterClosed):
        await writer.submit("late")
