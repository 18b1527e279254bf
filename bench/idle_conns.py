#!/usr/bin/env python3
"""What an idle or slow connection costs each language's echo service, in RSS.

For C, Go and Rust in turn: the echo service on CPU 0 (one worker where it has a flag for it),
then N keep-alive connections that each had one answer and stay open, then N that sent half a
request head and nothing more (a slowloris client). Prints the service's VmRSS before and
after each step and the KiB per connection. Usage: bench/idle_conns.py [N] (default 5000).
Run from the repository after `make && make peers`; targets 127.0.0.1 only."""
import os
import resource
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
PORT = 18090
REQ = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n[1,2,3]"
HALF = b"POST /echo HTTP/1.1\r\nHost: t\r\nX-A"
SERVICES = [
    ("c", [ROOT + "/build/stackbench", "serve", "echo", "--workers", "1", "--port", str(PORT)]),
    ("go", [ROOT + "/peers/go/bin/stackbench-go", "echo", "--port", str(PORT)]),
    ("rust", [ROOT + "/peers/rust/target/release/stackbench-rust", "echo", "--port", str(PORT)]),
]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def answer(s):
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"]"):
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def main():
    need = 2 * N + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    print("%-5s %10s %12s %10s %12s %10s" % ("lang", "RSS before", "+%d idle" % N, "KiB each",
                                             "+%d slow" % N, "KiB each"))
    for lang, argv in SERVICES:
        if not os.path.exists(argv[0]):
            print("%-5s not built: %s" % (lang, argv[0]))
            continue
        p = subprocess.Popen(["taskset", "-c", "0"] + argv, stderr=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            for _ in range(16):  # the service's own buffers, before the baseline
                with socket.create_connection(("127.0.0.1", PORT)) as s:
                    s.sendall(REQ)
                    answer(s)
            time.sleep(0.2)
            base = rss_kib(p.pid)
            idle = []
            for _ in range(N):
                s = socket.create_connection(("127.0.0.1", PORT))
                s.sendall(REQ)
                answer(s)
                idle.append(s)
            time.sleep(0.3)
            after_idle = rss_kib(p.pid)
            slow = []
            for _ in range(N):
                s = socket.create_connection(("127.0.0.1", PORT))
                s.sendall(HALF)
                slow.append(s)
            time.sleep(0.5)
            after_slow = rss_kib(p.pid)
            print("%-5s %10d %12d %10.2f %12d %10.2f" % (
                lang, base, after_idle, (after_idle - base) / N, after_slow,
                (after_slow - after_idle) / N))
            for s in idle + slow:
                s.close()
        finally:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
