"""Run the web server and a django-q2 worker together in the foreground (`make run`).

Ctrl-C (or SIGTERM) stops both; if either dies, the other is stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from faceswap_site import webserver


class Command(BaseCommand):
    help = "Start the web server (uvicorn) and the django-q2 cluster together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", "4"))
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="web processes only; jobs run on other machines (`manage.py worker`)",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        web_workers: int,
        web_threads: int,
        no_worker: bool = False,
        **options: Any,
    ) -> None:
        # The web processes share one socket bound here, so they all answer on one port.
        listener = webserver.bind_listener(host, port)
        fd = listener.fileno()
        web = [
            subprocess.Popen(
                webserver.command(fd, threads=web_threads, python=sys.executable), pass_fds=[fd]
            )
            for _ in range(web_workers)
        ]
        listener.close()
        if not no_worker:
            web.append(subprocess.Popen([sys.executable, "manage.py", "worker"]))
        self._print_banner(host, port)
        code = self._supervise(web)
        sys.exit(code)

    def _print_banner(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = "Redis" if settings.Q_CLUSTER.get("redis") else "ORM"
        media = settings.STORAGE_URL.split("?")[0] or settings.MEDIA_ROOT
        self.stdout.write(
            f"\nFaceSwap is running ({db}, django-q2 {broker} broker, media in {media})\n"
            f"  Web app:   {base}/\n"
            f"  API:       {base}/api/v1/swaps\n"
            f"  API docs:  {base}/api/docs/\n"
            f"  Admin:     {base}/admin/  (make an operator: .venv/bin/python manage.py "
            "createsuperuser)\n"
            "  API key:   .venv/bin/python manage.py createapikey --email you@example.com\n"
            "Press Ctrl-C to stop the server and the worker.\n"
        )
        self.stdout.flush()

    def _supervise(self, children: list[subprocess.Popen]) -> int:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.3)
        return _stop_all(children, clean=stopping)


def _stop_all(children: list[subprocess.Popen], *, clean: bool) -> int:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    # Longer than `manage.py worker` waits for its cluster before killing it (15 s), so
    # the worker is never killed first and its cluster never left behind.
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if clean else 1
