"""The worker command Beam runs under runtime/workers.ForkServer: `python -I -S _fork_client.py SOCKET`.

Standard library only, so it starts in milliseconds without the project's imports. It hands this
process's environment (Beam's control and logging endpoints, the pipeline options, the worker id) to
the worker server, which forks the worker, and waits for that worker to end with its exit code.
"""

import json
import os
import socket
import sys


def main(path: str) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(path)
        except OSError as err:
            print(f"newsbeam: the worker server at {path} is not running ({err}); see its error above", file=sys.stderr)
            return 1
        reply = b""
        try:
            conn.sendall(json.dumps(dict(os.environ)).encode())
            conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(64):
                reply += chunk
        except OSError as err:
            print(f"newsbeam: lost the worker server at {path} ({err})", file=sys.stderr)
            return 1
    if not reply.strip():
        print("newsbeam: a forked Beam worker ended without an exit code (killed?)", file=sys.stderr)
        return 1
    return int(reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
