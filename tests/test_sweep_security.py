"""A remote Dask scheduler receives the enterprise list: only over TLS, or with an explicit
--insecure that says what travels in clear; a malformed or unreachable address is an input error
within a few seconds."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .tiny_world import write_tiny_world


def siteplan(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def _one_line_exit_2(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_tiny_world(tmp_path_factory.mktemp("sweep-world"))


@pytest.fixture(scope="module")
def pem(tmp_path_factory):
    """A throwaway CA, certificate and key (distributed's own test helper makes them)."""
    from distributed import Security

    sec = Security.temporary()
    folder = tmp_path_factory.mktemp("pem")
    paths = {}
    for name, text in (("ca", sec.tls_ca_file), ("cert", sec.tls_client_cert), ("key", sec.tls_client_key)):
        paths[name] = folder / f"{name}.pem"
        paths[name].write_text(text, encoding="utf-8")
    return sec, paths


@pytest.mark.parametrize(("address", "words"), [
    ("tcp://127.0.0.1:8786", ("unencrypted", "--insecure")),
    ("nonsense", ("not SCHEME://HOST:PORT", "tls://")),
    ("tls://", ("not SCHEME://HOST:PORT",)),
    ("tls://host:99999", ("not SCHEME://HOST:PORT",)),
    ("http://host:80", ("protocol 'http'",)),
    ("tls://127.0.0.1:8786", ("no TLS configuration",)),
])
def test_bad_or_clear_text_addresses_are_refused_before_anything_is_sent(world, tmp_path, address, words):
    started = time.monotonic()
    proc = siteplan("sweep", world.scenario, "--draws", "1", "--scheduler", address, "--out", tmp_path / "o",
                    cwd=tmp_path)
    _one_line_exit_2(proc, *words)
    assert time.monotonic() - started < 60  # a sanity bound on a hang, not a timing assertion
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_unreachable_scheduler_is_an_input_error(world, tmp_path, pem):
    _sec, p = pem
    proc = siteplan("sweep", world.scenario, "--draws", "1", "--scheduler", "tls://127.0.0.1:9",
                    "--tls-ca-file", p["ca"], "--tls-cert", p["cert"], "--tls-key", p["key"], "--connect-timeout-s", "2",
                    "--out", tmp_path / "o", cwd=tmp_path)
    _one_line_exit_2(proc, "cannot reach the scheduler within 2 s", "fix:")


def test_missing_certificate_file_is_an_input_error(world, tmp_path, pem):
    _sec, p = pem
    proc = siteplan("sweep", world.scenario, "--draws", "1", "--scheduler", "tls://127.0.0.1:9",
                    "--tls-ca-file", tmp_path / "nope.pem", "--tls-cert", p["cert"], "--out", tmp_path / "o",
                    cwd=tmp_path)
    _one_line_exit_2(proc, "nope.pem", "file not found")


def test_tls_options_without_a_scheduler_are_an_input_error(world, tmp_path):
    _one_line_exit_2(siteplan("sweep", world.scenario, "--insecure", "--out", tmp_path / "o", cwd=tmp_path),
                     "remote scheduler only")


def _cluster(**kwargs):
    from distributed import LocalCluster

    return LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, **kwargs)


def test_sweep_over_tls_to_a_remote_scheduler(world, tmp_path, pem):
    sec, p = pem
    with _cluster(protocol="tls://", security=sec) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        proc = siteplan("sweep", world.scenario, "--draws", "2", "--scheduler", cluster.scheduler_address,
                        "--tls-ca-file", p["ca"], "--tls-cert", p["cert"], "--tls-key", p["key"],
                        "--out", tmp_path / "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "unencrypted" not in proc.stderr
    assert "2 draws on 1 worker(s)" in " ".join(proc.stdout.split())


def test_insecure_sweep_says_what_travels_in_clear(world, tmp_path):
    with _cluster(protocol="tcp://") as cluster:
        proc = siteplan("sweep", world.scenario, "--draws", "1", "--scheduler", cluster.scheduler_address,
                        "--insecure", "--out", tmp_path / "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = " ".join(proc.stderr.split())
    assert "--insecure" in warning and "enterprise list" in warning and "unencrypted" in warning


# --- the LocalCluster of a sweep or a sensitivity run is private to that run -------------------

def _listening(pids) -> list:
    import psutil

    return [c.laddr for pid in pids for c in psutil.Process(pid).net_connections(kind="inet") if c.status == "LISTEN"]


def test_local_cluster_is_tls_on_loopback_and_refuses_connections_without_its_certificate():
    import socket
    import ssl

    import psutil
    from distributed import Client, Security

    from model.sweep import dask_client

    with dask_client(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:"), address
        assert all(w.startswith("tls://127.0.0.1:") for w in client.scheduler_info()["workers"])
        me = psutil.Process()
        sockets = _listening([me.pid, *(p.pid for p in me.children(recursive=True))])
        assert sockets and {s.ip for s in sockets} == {"127.0.0.1"}, sockets  # scheduler, nanny, worker, http
        host, port = address.removeprefix("tls://").rsplit(":", 1)

        # plain TCP, no TLS at all: the scheduler drops the connection
        with pytest.raises(OSError, match=r"."):  # closed, reset or timed out: any refusal
            Client(address.replace("tls://", "tcp://"), timeout=3)
        # TLS without a client certificate: the handshake is refused ("certificate required")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        def talk_without_a_certificate():
            with socket.create_connection((host, int(port)), timeout=3) as raw, context.wrap_socket(raw) as tls:
                tls.sendall(b"\0" * 16)
                tls.recv(16)

        # the server's alert ("certificate required") or, when it closes first, an EOF: refused either way
        with pytest.raises(OSError, match=r"CERTIFICATE_REQUIRED|EOF occurred|reset by peer"):
            talk_without_a_certificate()
        # TLS with a certificate of its own (another run's, another user's): refused
        with pytest.raises(OSError, match="certificate"):
            Client(address, security=Security.temporary(), timeout=3)
        assert client.submit(sum, [1, 2]).result() == 3  # the run's own client still works


def test_a_local_sweep_is_quiet_even_when_the_dashboard_port_is_taken(world, tmp_path):
    import socket

    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    except OSError:
        pass  # someone else holds it: as good for this test
    try:
        proc = siteplan("sweep", world.scenario, "--draws", "2", "--workers", "1", "--out", tmp_path / "o",
                        cwd=tmp_path)
    finally:
        taken.close()
    assert proc.returncode == 0, proc.stderr
    # no "Port 8787 is already in use", no "unclosed socket": only the progress lines of a piped stderr
    others = [ln for ln in proc.stderr.splitlines() if ln.strip() and not re.match(r"\[\d\d:\d\d:\d\d\] sweep ", ln)]
    assert others == [], proc.stderr
