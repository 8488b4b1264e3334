"""The kommunelab kernel: IPython's kernel, started so that it dies with the worker that started it and, when
$KOMMUNELAB_KERNEL_MEMORY_MB is set, cannot grow past that much memory (a cell that tries fails with MemoryError).

Registered as the `kommunelab` kernel by kommunelab.execute.ensure_kernel: ``python -m kommunelab.kernel -f FILE``.
"""

from __future__ import annotations

import os
import resource

from .lifetime import die_with_parent

MEMORY_ENV = "KOMMUNELAB_KERNEL_MEMORY_MB"


def main() -> None:
    die_with_parent()
    limit = os.environ.get(MEMORY_ENV, "").strip()
    if limit.isdigit() and int(limit) > 0:
        cap = int(limit) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
