"""Group commit: many callers' writes, one transaction, one commit.

Every write of the store goes through one :class:`GroupCommitWriter`. Jobs
that arrive while a transaction is being written wait in a queue; the writer
then runs all of them (up to ``max_batch``) in the next transaction. The cost
of a commit (an fsync on PostgreSQL, a WAL append and a lock round trip on
SQLite) is shared by the whole batch, and on SQLite there is never more than
one writer to contend for the lock.

Each caller's future resolves only after the COMMIT that contains its job
succeeded. If anything in a batch fails, the transaction is rolled back and
its jobs are run again one transaction each, so a bad job fails alone and
the others still commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from dataclasses import dataclass

from sqlalchemy import Connection

from bot.store.access import Database

# Runs a batch of jobs on the transaction's connection and returns one result
# per job, in order. What a job is, is the runner's business (see bot.store.jobs).
BatchRunner = Callable[[Connection, list[Any]], list[Any]]


@dataclass(frozen=True, slots=True)
class Failed:
    """A job's result meaning "failed before writing anything".

    Only that job's caller gets ``error``; the rest of the batch commits.
    (A job that *raises* instead may have written part of its work, so the
    whole batch is rolled back and retried job by job.)
    """

    error: Exception

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 128


class WriterClosed(RuntimeError):
    """The store was closed before this write could run."""


class GroupCommitWriter:
    """Runs write jobs in shared transactions, one transaction at a time."""

    def __init__(
        self, database: Database, run_batch: BatchRunner, *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self._database = database
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._pending: deque[tuple[Any, asyncio.Future[Any]]] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="sapa-store-writer"
            )

    async def submit(self, job: Any) -> Any:
        """Run ``job`` in the next transaction; return its result once committed.

        A :class:`Failed` result is raised as its error.
        """
        if self._closing or self._task is None:
            raise WriterClosed("the store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # If the caller is cancelled the job still runs (it may already be in a
        # transaction); only its result is dropped, and this callback keeps
        # asyncio from warning about an error nobody retrieved.
        future.add_done_callback(_consume)
        self._pending.append((job, future))
        self._wakeup.set()
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        try:
            while True:
                if not self._pending:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = [
                    self._pending.popleft()
                    for _ in range(min(self._max_batch, len(self._pending)))
                ]
                await self._write(batch)
        finally:
            # Only reached with work left if the task itself was cancelled.
            for _, future in self._pending:
                if not future.done():
                    future.set_exception(WriterClosed("the store was closed"))
            self._pending.clear()

    async def _write(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._database.transaction(self._run_batch, [job for job, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            log.debug("write batch of %d failed (%r); retrying one by one", len(batch), exc)
            for item in batch:
                await self._write([item])
            return
        except BaseException as exc:
            # Cancelled while writing: a worker thread may still commit, so the
            # outcome is unknown; say so rather than report a failure.
            for _, future in batch:
                error = WriterClosed(f"write interrupted, outcome unknown: {exc!r}")
                _settle(future, exception=error)
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Failed):
                _settle(future, exception=result.error)
            else:
                _settle(future, result=result)


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, exception: BaseException | None = None
) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
