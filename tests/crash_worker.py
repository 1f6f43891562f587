"""A job for the process-pool tests, in a module light enough to import in every fresh worker."""
import os
import signal
import time


def work(item: str) -> str:
    """``segv`` kills its worker with SIGSEGV, ``exit`` with ``os._exit``; other items return upper-cased."""
    if item == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "exit":
        os._exit(3)
    time.sleep(0.05)
    return item.upper()
