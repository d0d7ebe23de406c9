"""A scoring process keeps freed memory: large temporaries are not faulted in again each time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scorers.allocator import retain_freed_memory
from tests.scorers.helpers import REPO_ROOT

# Allocates, fills and frees a 16 MB array twice; prints the page faults of the second time.
PROBE = """
import json, resource, sys
import numpy as np
from scorers.allocator import retain_freed_memory
applied = retain_freed_memory() if sys.argv[1] == "retain" else False
np.ones(2 << 20).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(2 << 20).sum()
print(json.dumps({"applied": applied,
                  "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def probe(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_freed_blocks_are_reused_without_page_faults():
    default, retained = probe("default"), probe("retain")
    # by default the block is mapped anew: at least one fault per 2 MB (huge) page, or per 4 KB
    assert default == {"applied": False, "faults": default["faults"]} and default["faults"] >= 8
    assert retained == {"applied": True, "faults": retained["faults"]} and retained["faults"] <= 4


def test_applied_once_per_process():
    assert retain_freed_memory() is retain_freed_memory()
