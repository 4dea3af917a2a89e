#!/usr/bin/env python3
"""QMP driver for benchmarks/peers/qemu.sh: one QEMU migration, save or load per call, result as one JSON line.

Every wait is bounded: socket operations by SOCKET_TIMEOUT, each migration by MIGRATION_TIMEOUT.
"""
import json
import os
import socket
import sys
import time

SOCKET_TIMEOUT = 60.0
MIGRATION_TIMEOUT = 300.0
# Fine enough that polling adds well under a millisecond to a figure QEMU does not report itself (the load time).
POLL_INTERVAL = 0.0005

# QEMU's best settings on this machine: no bandwidth cap to speak of, a downtime limit it can keep, two multifd
# channels (one per core).
BEST_PARAMETERS = {"max-bandwidth": 10 * 1024 ** 3, "downtime-limit": 20, "multifd-channels": 2}


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + SOCKET_TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(SOCKET_TIMEOUT)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError(f"{path}: QEMU's QMP socket did not appear within {SOCKET_TIMEOUT:.0f} s")
                time.sleep(0.02)
        self.reader = self.sock.makefile("r", encoding="utf-8")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        line = self.reader.readline()
        if not line:
            raise QmpError("QEMU closed its QMP socket")
        return json.loads(line)

    def execute(self, command, **arguments):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self.sock.sendall((json.dumps(message) + "\n").encode())
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

    def close(self):
        self.reader.close()
        self.sock.close()


def wait_for(qmp, statuses, what):
    deadline = time.monotonic() + MIGRATION_TIMEOUT
    while True:
        info = qmp.execute("query-migrate")
        status = info.get("status")
        if status in statuses:
            return info
        if status in ("failed", "cancelled"):
            raise QmpError(f"{what}: migration {status}: {info.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise QmpError(f"{what}: not finished after {MIGRATION_TIMEOUT:.0f} s (status {status})")
        time.sleep(POLL_INTERVAL)


def configure(qmp, mode, incoming):
    if mode == "best":
        qmp.execute("migrate-set-capabilities", capabilities=[{"capability": "multifd", "state": True}])
        parameters = BEST_PARAMETERS if not incoming else {"multifd-channels": BEST_PARAMETERS["multifd-channels"]}
        qmp.execute("migrate-set-parameters", **parameters)
    elif mode == "unlimited":
        qmp.execute("migrate-set-parameters", **{"max-bandwidth": BEST_PARAMETERS["max-bandwidth"]})
    elif mode != "defaults":
        raise QmpError(f"unknown mode '{mode}' (defaults, best, unlimited)")


def figures(info):
    ram = info.get("ram", {})
    return {
        "total_ms": info.get("total-time"),
        "downtime_ms": info.get("downtime"),
        "setup_ms": info.get("setup-time"),
        "mbps": ram.get("mbps"),
        "transferred": ram.get("transferred"),
    }


def migrate(source_path, destination_path, port, mode):
    destination = Qmp(destination_path)
    source = Qmp(source_path)
    try:
        configure(destination, mode, incoming=True)
        configure(source, mode, incoming=False)
        uri = f"tcp:127.0.0.1:{port}"
        destination.execute("migrate-incoming", uri=uri)
        source.execute("migrate", uri=uri)
        result = figures(wait_for(source, ("completed",), "migrate"))
        wait_for(destination, ("completed",), "migrate-incoming")
        return result
    finally:
        source.close()
        destination.close()


def save(path, file, mode):
    qmp = Qmp(path)
    try:
        configure(qmp, mode, incoming=False)
        qmp.execute("migrate", uri=f"exec:cat > {file}")
        return figures(wait_for(qmp, ("completed",), "save"))
    finally:
        qmp.close()


def load(path, file):
    qmp = Qmp(path)
    try:
        started = time.monotonic()
        qmp.execute("migrate-incoming", uri=f"exec:cat {file}")
        wait_for(qmp, ("completed",), "load")
        return {"load_ms": (time.monotonic() - started) * 1e3}
    finally:
        qmp.close()


def quit_qemu(path):
    qmp = Qmp(path)
    try:
        qmp.execute("quit")
    except QmpError:
        pass  # QEMU may close the socket before it replies
    finally:
        qmp.close()
    return {}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USAGE = """usage: qmp.py migrate SRC.sock DST.sock PORT defaults|best
       qmp.py save SOCK FILE defaults|unlimited
       qmp.py load SOCK FILE
       qmp.py quit SOCK
       qmp.py free-port"""


def main(argv):
    try:
        match argv:
            case ["migrate", source, destination, port, mode]:
                result = migrate(source, destination, int(port), mode)
            case ["save", path, file, mode]:
                result = save(path, os.path.abspath(file), mode)
            case ["load", path, file]:
                result = load(path, os.path.abspath(file))
            case ["quit", path]:
                result = quit_qemu(path)
            case ["free-port"]:
                print(free_port())
                return 0
            case _:
                print(USAGE, file=sys.stderr)
                return 2
    except (QmpError, OSError, ValueError) as e:
        print(f"qmp.py {' '.join(argv[:1])}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
