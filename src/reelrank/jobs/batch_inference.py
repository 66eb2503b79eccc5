"""Batch inference jobs: JSON Lines in, `<input file>.out` JSON Lines out, in Personalize's format per recipe.

Each line gets what GetRecommendations / GetPersonalizedRanking would answer (`batch_scoring.py`: plain user lines are
scored a block at a time, the others line by line by the runtime). A bad line is written with its error and counted;
it never stops the job.

The input is read and the output written a block of lines at a time, so memory does not depend on the number of
lines. With more than one core the blocks are answered by forked workers (`workers.py`; `REELRANK_BATCH_WORKERS`
sets how many, 1 = in the job process), in order. Progress reports rows done, rows per second and the estimated
time left. The outputs are stored only when every file is done, each written under a temporary name and renamed, so
a failed or killed job leaves nothing under the output path.
"""

from __future__ import annotations

import gc
import os
import struct
from contextlib import ExitStack

from threadpoolctl import threadpool_limits

from reelrank.ingest.locations import store
from reelrank.service.context import Context
from reelrank.service.runtime import Runtime
from reelrank.service.vocabulary import ACTIVE

from .batch_scoring import BatchAnswerer, BlockAnswer, blocks
from .context import JobContext, RowMeter
from .inputs import active_version, input_files, location, scratch
from .workers import ForkedWorkers, available_cores

MAX_WORKERS = 8
MANY_BYTES = 64 << 10
"""Inputs from this size (about 3,000 user lines) index every history first and fork workers; smaller ones are
answered in the job process, looking users up one by one."""
_HEADER = struct.Struct("<QQQ")
"""Before each block's answer: the input bytes it covers, its lines and its failed lines."""


def worker_count(input_bytes: int) -> int:
    configured = os.environ.get("REELRANK_BATCH_WORKERS")
    if configured:
        return max(1, int(configured))
    if input_bytes < MANY_BYTES:
        return 1
    return max(1, min(available_cores(), MAX_WORKERS))


def run_batch_inference(job: JobContext) -> None:
    body = job.start().body
    version = active_version(job, body["solutionVersionArn"])
    runtime = Runtime(Context(job.settings, job.store, job.files))
    target = runtime.target_for(version.body["recipeArn"], version.body["artifact"], version.body["datasetGroupArn"],
                                body.get("batchInferenceJobConfig", {}))
    source = location(job, body["jobInput"]["s3DataSource"]["path"])
    destination = location(job, body["jobOutput"]["s3DataDestination"]["path"].rstrip("/") + "/")
    answerer = BatchAnswerer(runtime, target, body)
    with scratch(job) as folder:
        files = input_files(job, source, folder / "input")
        total = sum(path.stat().st_size for path in files)
        workers = worker_count(total)
        answerer.warm(index_histories=total >= MANY_BYTES)  # before forking: the workers share what it loads
        gc.collect()
        gc.freeze()  # what is loaded now is never scanned again by a collection, nor written to by one in a worker

        def work(block: bytes) -> bytes:
            return _pack(len(block), answerer.answer_block(block))

        meter = RowMeter(job, float(total), stage=lambda m: f"{m.rows:,} lines, {m.failed:,} failed")
        outputs = []
        with ExitStack() as stack:
            stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
            pool = (stack.enter_context(ForkedWorkers(work, workers, prepare=lambda: _in_worker(runtime)))
                    if workers > 1 else None)
            for path in files:
                output = folder / "output" / f"{path.name}.out"
                output.parent.mkdir(parents=True, exist_ok=True)
                with path.open("rb") as lines, output.open("wb") as sink:
                    answers = pool.map(blocks(lines)) if pool else (work(block) for block in blocks(lines))
                    for packed in answers:
                        read, count, failed = _HEADER.unpack_from(packed)
                        sink.write(memoryview(packed)[_HEADER.size:])
                        meter.add(count, read, failed)
                outputs.append(output)
        meter.report()
        for output in outputs:
            store(output, destination, output.name, job.settings)
    with job.store.transaction() as tx:
        resource = tx.get_resource(job.arn)
        assert resource is not None
        job.finish(tx, ACTIVE, dict(resource.body, linesProcessed=meter.rows, linesFailed=meter.failed))


def _pack(read: int, answer: BlockAnswer) -> bytes:
    return _HEADER.pack(read, answer.lines, answer.failed) + answer.data


def _in_worker(runtime: Runtime) -> None:
    runtime.ctx.store.engine.dispose(close=False)  # the job process's pooled connections stay its own
