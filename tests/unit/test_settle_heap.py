"""``tollgate serve``'s start-up work (``tollgate.server.start_up``): the tokenizer loaded before the
first call (``warm_up``), then the garbage collector tuned (``settle_heap``): start-up objects
frozen out of the collector's walks, the youngest generation collected after ``GC_GEN0_THRESHOLD``
net allocations. Checked in child interpreters: the test process's own collector and tokenizer
are never changed."""

from __future__ import annotations

import json
import subprocess
import sys

from tollgate.server import GC_GEN0_THRESHOLD

CHILD = """
import gc, json
from tollgate.server import settle_heap
before = [gc.get_freeze_count(), *gc.get_threshold()]
settle_heap()
print(json.dumps({"before": before, "after": [gc.get_freeze_count(), *gc.get_threshold()]}))
"""


def test_settle_heap_freezes_start_up_objects_and_raises_the_first_threshold() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    frozen_before, gen0_before, gen1_before, gen2_before = seen["before"]
    frozen, gen0, gen1, gen2 = seen["after"]
    assert frozen_before == 0 and gen0_before == 700
    assert frozen > 10_000  # the interpreter, tollgate and its libraries: tens of thousands of objects
    assert (gen0, gen1, gen2) == (GC_GEN0_THRESHOLD, gen1_before, gen2_before) and GC_GEN0_THRESHOLD > 700


WARM_CHILD = """
import json
from tollgate.metering import text
from tollgate.server import start_up
before = text._loaded
start_up()
print(json.dumps({"before": before, "after": text._loaded, "tokenizer": text.tokenizer_name()}))
"""


def test_start_up_loads_the_tokenizer_before_the_first_call() -> None:
    done = subprocess.run([sys.executable, "-c", WARM_CHILD], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": False, "after": True, "tokenizer": "tiktoken:cl100k_base"}
