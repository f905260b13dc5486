"""Warm Beam SDK workers: forked from a process that has the imports and the spaCy model loaded.

Beam's `multi_processing` mode starts each worker as a new interpreter: every worker of every
pipeline imports Beam and the project again (about 3 s and 200 MB each) and loads its own copy of
the model. A chunked run starts a new pair of workers per chunk. Here, the local runner forks one
*worker server* from the driver before the first pipeline runs. The server loads what a worker
needs (`warm_up`: the tagger, through the pipeline's own `Shared` handle), then forks a worker for
each one Beam asks for:

    driver ── worker server (imports, the loaded model; serves the socket) ── worker, worker

A forked worker starts in milliseconds, and its pages stay shared with the server until written:
the imports and the model weights are in memory once, not once per worker. Beam still runs each
worker through its own entry point (`sdk_worker_main.main`), with the environment Beam gives a
worker process. Beam starts a worker with a command line, so the command it gets is a small
stdlib-only client (runtime/_fork_client.py) that hands that environment to the server over a
Unix socket and exits with the worker's exit code.

Forking is safe only before the driver has threads or gRPC channels; LocalRunner checks that, and
otherwise uses Beam's own worker processes. The server dies with the driver (PR_SET_PDEATHSIG),
and each worker with the server.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import traceback
from typing import Any, Callable, Optional

_PR_SET_PDEATHSIG = 1
_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_fork_client.py")


class WorkerServerError(RuntimeError):
    """The worker server could not start: its warm-up failed."""


class ForkServer:
    """One warm process that forks Beam SDK workers; `command` is the worker command line to give Beam."""

    def __init__(self, pid: int, folder: str, ready: int):
        self.pid = pid  # 0 once closed
        self.folder = folder  # holds the socket
        self.command = shlex.join(
            [sys.executable, "-I", "-S", _CLIENT, _socket_path(folder)]
        )  # Beam runs it through a shell
        self._ready: Optional[int] = ready  # the pipe the server reports its warm-up on; None once read
        self._status: Optional[str] = None  # what it reported: "ok", or the warm-up's traceback

    @classmethod
    def start(cls, warm_up: Optional[Callable[[], Any]] = None) -> "ForkServer":
        """Fork the server from this process; call it while this process has one thread and no gRPC channel.

        Returns at once: the server warms up while this process goes on (on two cores, the model loads while
        the driver reads its inputs and builds the pipeline). `wait_ready()` before the first worker is needed.
        """
        folder = tempfile.mkdtemp(prefix="newsbeam-workers-")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(_socket_path(folder))
        listener.listen(16)
        ready_r, ready_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        driver = (
            os.getpid()
        )  # taken before the fork: in the child, getppid() is already init's if the driver died first
        pid = os.fork()
        if pid == 0:  # the server: never returns
            os.close(ready_r)
            _serve(listener, warm_up, driver, ready_w, folder)
        os.close(ready_w)
        listener.close()
        server = cls(pid, folder, ready_r)
        atexit.register(server.close)
        return server

    def wait_ready(self) -> None:
        """Wait until the server has warmed up; WorkerServerError (and the server stopped) if its warm-up failed."""
        if self._ready is not None:
            with os.fdopen(self._ready, "rb") as ready:
                self._ready = None
                self._status = ready.read().decode("utf-8", "replace")  # "ok", or the warm-up's traceback
        if self._status != "ok":
            self.close()
            raise WorkerServerError(f"the worker server could not warm up: {self._status.strip() or 'it died'}")

    def close(self) -> None:
        """Stop the server (its workers have ended with their pipelines) and remove its socket."""
        if self._ready is not None:
            os.close(self._ready)
            self._ready, self._status = None, "closed before it was ready"
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass  # already gone and reaped
            self.pid = 0
        shutil.rmtree(self.folder, ignore_errors=True)


def _socket_path(folder: str) -> str:
    return os.path.join(folder, "workers.sock")


def _die_with_parent(parent: int) -> bool:
    """Ask Linux to SIGTERM this process when its parent ends; False if it already has (no signal will come)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    return os.getppid() == parent


def _serve(listener: socket.socket, warm_up: Optional[Callable[[], Any]], driver: int, ready: int, folder: str) -> None:
    def stop(signum, frame):  # from close(), or the kernel when the driver died without calling it
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(0)

    try:
        signal.signal(signal.SIGTERM, stop)
        if not _die_with_parent(driver):  # the driver died while this server was starting: nothing will stop it
            stop(None, None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it stops the server
        os.dup2(2, 1)  # workers write nothing to the driver's stdout, which a caller may read to its end
        try:
            # Never read, but held for the server's life (this frame never returns), so Shared keeps it for the workers.
            keep = warm_up() if warm_up else None  # noqa: F841  (the reference itself is the point: do not drop it)
            from apache_beam.runners.worker import sdk_worker_main  # noqa: F401  (imported once, here)
        except BaseException:
            os.write(ready, traceback.format_exc().encode())  # the driver raises it
            raise
        os.write(ready, b"ok")
        os.close(ready)
        gc.collect()
        gc.freeze()  # the collector in a worker then leaves the server's objects (and their pages) alone
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished workers
        server = os.getpid()
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    env = _read_request(conn)
                except (OSError, ValueError) as err:  # its client was killed mid-request: it has failed already
                    print(f"newsbeam: the worker server dropped a broken request: {err!r}", file=sys.stderr)
                    continue
                if os.fork() == 0:
                    listener.close()
                    _run_worker(conn, env, server)
    finally:
        # An error ends it too: a driver killed before the warm-up is reported makes the report's write fail (EPIPE)
        # before the parent-death signal's handler has run. The socket folder goes either way.
        shutil.rmtree(folder, ignore_errors=True)
        sys.stderr.flush()
        os._exit(1)  # a server only ends by a signal or an error


def _read_request(conn: socket.socket) -> dict[str, str]:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return json.loads(data)


def _run_worker(conn: socket.socket, env: dict[str, str], server: int) -> None:
    """A forked worker: Beam's own worker entry point with the worker environment Beam gave; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if not _die_with_parent(server):
            os._exit(1)
        os.environ.clear()
        os.environ.update(env)
        logging.getLogger().handlers.clear()  # the driver's; Beam's worker sends its logs to the runner
        from apache_beam.runners.worker import sdk_worker_main

        sdk_worker_main.main([])
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            conn.sendall(f"{code}\n".encode())
        finally:
            sys.stderr.flush()
            os._exit(code)
