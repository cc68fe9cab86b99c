"""Entry point of the transcode worker: ``python functions/transcode/main.py``."""

from __future__ import annotations

from yaffw_transcode.worker import main

if __name__ == "__main__":
    main()
