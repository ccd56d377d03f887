"""Serve a whole school: app replicas behind Debian's nginx, sharing one PostgreSQL.

    python -m tools.serve_school --store postgresql+psycopg://USER:PASSWORD@HOST/DB \\
        [--listen 0.0.0.0:8080] [--replicas 2] [--first-port 8501] [--dir /var/tmp/mnist-knn]

Starts ``--replicas`` ``streamlit run`` processes on 127.0.0.1 (ports ``--first-port``,
+1, ...), each with ``MNIST_KNN_STORE`` set to the one database, and nginx in front of
them on ``--listen``, then waits until Ctrl-C (or SIGTERM) and stops them all. The
teacher password and the other settings come from the environment as for one server
(``MNIST_KNN_TEACHER_PASSWORD``, ...); every replica gets the same environment and the
same cookie secret.

Why each part of the nginx configuration (:func:`nginx_config`):

- **Sticky sessions by cookie.** A Streamlit session lives in one replica's memory: its
  websocket, its uploads and the images it shows (``/media/...``) must all reach that
  replica. The first response gives the browser a ``mnist_knn_replica`` cookie with a
  random value; nginx hashes it to pick the replica, so the browser stays there. Not
  ``ip_hash``: a school's pupils often reach the server from one address (NAT), and
  would all land on one replica.
- **Websocket upgrade** for ``/_stcore/stream``: HTTP/1.1 with the ``Upgrade`` and
  ``Connection`` headers passed on, and a long read timeout (a pupil thinking is a
  silent websocket).
- ``Host`` is passed on with its port: Streamlit compares the websocket's ``Origin``
  with it.
- ``client_max_body_size`` matches the app's upload limit (``server.maxUploadSize``).

When a replica stops, nginx sends its browsers to another one: they reconnect to a new,
empty session (the page reloads); what they saved is in PostgreSQL, nothing is lost.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from tools.browser import free_port, stop, streamlit_server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COOKIE = "mnist_knn_replica"  # the sticky-session cookie
REPLICA_HEADER = "X-Mnist-Knn-Replica"  # which replica answered (its address)
UPLOAD_MB = 10  # .streamlit/config.toml's server.maxUploadSize


def nginx_config(listen: str, replicas: list[str], workdir: Path) -> str:
    """nginx.conf for a reverse proxy in front of ``replicas`` ("127.0.0.1:8501", ...).

    Every file nginx writes (pid, logs, temp files) is under ``workdir``, so it runs
    beside a system nginx, as root or not.
    """
    servers = "\n".join(f"        server {address};" for address in replicas)
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# mnist-knn: {len(replicas)} app replicas behind nginx (tools/serve_school.py)
worker_processes auto;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 4096; }}

http {{
    access_log {workdir / "access.log"};
{temp}
    client_max_body_size {UPLOAD_MB}m;

    # Websocket upgrade for /_stcore/stream (and a plain keep-alive for the rest).
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}
    # Sticky sessions: the browser's cookie, else (first visit) a new random value,
    # which the response sets as the cookie.
    map $cookie_{COOKIE} $mnist_knn_pick {{
        ""      $request_id;
        default $cookie_{COOKIE};
    }}
    upstream mnist_knn {{
        hash $mnist_knn_route consistent;
{servers}
        keepalive 16;
    }}

    server {{
        listen {listen};
        location / {{
            # Evaluated once ($request_id is new each time it is read): the replica
            # chosen and the cookie set agree.
            set $mnist_knn_route $mnist_knn_pick;
            proxy_pass http://mnist_knn;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
            add_header Set-Cookie "{COOKIE}=$mnist_knn_route; Path=/; HttpOnly; SameSite=Lax"
                always;
            add_header {REPLICA_HEADER} $upstream_addr always;
        }}
    }}
}}
"""


def wait_for(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200 (nginx or a replica coming up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered on {url} in {timeout:.0f} s")
        time.sleep(0.2)  # polling a health endpoint


@contextlib.contextmanager
def nginx(listen: str, replicas: list[str], workdir: Path):
    """Run nginx in the foreground with :func:`nginx_config`; stop it afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "nginx.conf"
    config.write_text(nginx_config(listen, replicas, workdir))
    # -e: nginx's own start-up errors go to a file of ours, not to /var/log/nginx.
    command = [NGINX, "-c", str(config), "-p", str(workdir), "-e", str(workdir / "error.log")]
    subprocess.run([*command, "-t", "-q"], check=True)
    process = subprocess.Popen([*command, "-g", "daemon off;"])
    try:
        wait_for(f"http://{listen.replace('0.0.0.0', '127.0.0.1')}/_stcore/health", 60, process)
        yield process
    finally:
        stop(process)


class School:
    """A running school: nginx's ``url``, and each replica's own URL and process id."""

    def __init__(self, url: str, replicas: list, workdir: Path):
        self.url, self.replicas, self.workdir = url, replicas, workdir


@contextlib.contextmanager
def school(
    store: str,
    replicas: int = 2,
    listen: str | None = None,
    first_port: int | None = None,
    workdir: Path | None = None,
    env: dict | None = None,
):
    """Start ``replicas`` app servers sharing the database ``store``, and nginx before them.

    Yields a :class:`School`. Ports default to free ones on 127.0.0.1.
    """
    listen = listen or f"127.0.0.1:{free_port()}"
    workdir = Path(workdir or tempfile.mkdtemp(prefix="mnist-knn-school-"))
    workdir.mkdir(parents=True, exist_ok=True)
    shared = {
        **(env or {}),
        "MNIST_KNN_STORE": store,
        # One cookie secret for all: a browser moved to another replica keeps a valid
        # XSRF cookie.
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
    }
    with contextlib.ExitStack() as stack:
        urls = []
        for i in range(replicas):
            port = first_port + i if first_port else None
            log = str(workdir / f"replica-{i + 1}.log")
            urls.append(stack.enter_context(streamlit_server(env=shared, port=port, log=log)))
        addresses = [url.removeprefix("http://") for url in urls]
        stack.enter_context(nginx(listen, addresses, workdir))
        host = listen.replace("0.0.0.0", "127.0.0.1")
        yield School(f"http://{host}", urls, workdir)


def _stop(*_) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the school as Ctrl-C does


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="the shared database's SQLAlchemy URL")
    parser.add_argument("--listen", default="0.0.0.0:8080", help="nginx's address:port")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--first-port", type=int, default=8501, help="the first replica's port")
    parser.add_argument("--dir", type=Path, help="nginx's config, logs and temp files")
    args = parser.parse_args()
    if not args.store.startswith("postgresql"):
        parser.error("replicas must share a server database: --store postgresql+psycopg://...")
    signal.signal(signal.SIGTERM, _stop)
    with school(args.store, args.replicas, args.listen, args.first_port, args.dir) as running:
        print(f"mnist-knn on {running.url} (nginx, {args.listen})", flush=True)
        for url in running.replicas:
            print(f"  replica {url} (pid {url.pid})", flush=True)
        print(f"  nginx config and logs: {running.workdir}; Ctrl-C stops all", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
