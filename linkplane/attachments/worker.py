"""A breakout workflow worker as its own process: ``python -m linkplane.attachments.worker``.

Runs DBOS (recovery, queue, the sweep schedule, heartbeat) against the data directory's
databases until SIGTERM/SIGINT. More workers = more processes with distinct executor ids.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from linkplane.attachments import engine
from linkplane.context import load_settings, open_context


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = load_settings(args.data_dir)
    ctx = open_context(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine.launch(settings, factory=ctx.sessionmaker)
    print(f"breakout worker {engine.runtime().executor_id} running", flush=True)
    try:
        stop.wait()
    finally:
        engine.shutdown()
        ctx.close()


if __name__ == "__main__":
    main()
