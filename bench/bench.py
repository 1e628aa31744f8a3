#!/usr/bin/env python3
# The bench for issue 14: mqtt-doctor and mosquitto_sub side by side through relay.py against
# the same real Mosquitto; prints medians (min, max) and ratios measured in one invocation.
import os, shutil, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv
RUNS = 5 if QUICK else 7
RTT_MS = 50.0
DOCTOR = os.environ.get("MQTT_DOCTOR") or shutil.which("mqtt-doctor") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target")), "debug", "mqtt-doctor")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, deadline=5.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listens on {port}")


def timed(cmd, cap):
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=cap)
        code = p.returncode
    except subprocess.TimeoutExpired:
        code = None
    return time.monotonic() - t, code


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def relay_overhead(relay_port):
    # One request/answer through the relay to Mosquitto's port is not an echo; measure the
    # relay against a local echo server instead (started here, same relay code).
    echo = socket.socket()
    echo.bind(("127.0.0.1", 0))
    echo.listen(1)
    port = echo.getsockname()[1]
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "relay.py"), str(RTT_MS),
                             "127.0.0.1", str(port)], stdout=subprocess.PIPE, text=True)
    rport = int(proc.stdout.readline())
    c = socket.create_connection(("127.0.0.1", rport))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s, _ = echo.accept()
    samples = []
    for _ in range(5):
        t = time.monotonic()
        c.sendall(b"x")
        s.recv(1)
        s.sendall(b"y")
        c.recv(1)
        samples.append(time.monotonic() - t)
    proc.kill()
    # The first exchange carries the emulated handshake RTT.
    rest = samples[1:]
    return statistics.median(rest) * 1000.0 - RTT_MS


def main():
    if not os.path.exists(DOCTOR):
        raise SystemExit(f"build mqtt-doctor first (looked for {DOCTOR}; set MQTT_DOCTOR)")
    tmp = tempfile.mkdtemp(prefix="mqtt-doctor-bench-")
    mport = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {mport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    relay = None
    try:
        wait_port(mport)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mport), "-t",
                        "bench/retained", "-r", "-m", "hello"], check=True)
        relay = subprocess.Popen([sys.executable, os.path.join(HERE, "relay.py"), str(RTT_MS),
                                  "127.0.0.1", str(mport)], stdout=subprocess.PIPE, text=True)
        rport = int(relay.stdout.readline())
        overhead = relay_overhead(rport)
        rtt = RTT_MS / 1000.0
        doctor = [DOCTOR, "check", f"mqtt://127.0.0.1:{rport}", "--topic", "bench/retained",
                  "--json"]
        sub = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(rport), "-t", "bench/retained",
               "-C", "1"]
        d, m = [], []
        for _ in range(RUNS):
            t, code = timed(doctor, 30)
            assert code == 0, f"mqtt-doctor failed ({code})"
            d.append(t)
            t, code = timed(sub, 30)
            assert code == 0, f"mosquitto_sub failed ({code})"
            m.append(t)
        print(f"# mqtt-doctor bench, {time.strftime('%Y-%m-%d %H:%M')} on {os.uname().nodename}"
              f" ({os.cpu_count()} cpus), relay RTT {RTT_MS:.0f} ms, {RUNS} runs each")
        print(f"relay overhead per round trip: {overhead:.2f} ms")
        print(f"binary: {DOCTOR}")
        dm, dmin, dmax = stats(d)
        mm, mmin, mmax = stats(m)
        print("| healthy mqtt://, retained | median (min–max) | RTT | ÷ floor (2 RTT) | ÷ mosquitto_sub |")
        print("|---|---|---|---|---|")
        print(f"| mqtt-doctor | {dm*1000:.0f} ms ({dmin*1000:.0f}–{dmax*1000:.0f}) | "
              f"{dm/rtt:.2f} | {dm/rtt/2:.2f} | {dm/mm:.2f} |")
        print(f"| mosquitto_sub -C 1 | {mm*1000:.0f} ms ({mmin*1000:.0f}–{mmax*1000:.0f}) | "
              f"{mm/rtt:.2f} | {mm/rtt/2:.2f} | 1.00 |")
        # Black hole: a listener whose accept queue is full drops SYNs (field notes).
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        hport = hole.getsockname()[1]
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", hport))
        except BlockingIOError:
            pass
        time.sleep(0.05)
        t, code = timed([DOCTOR, "check", f"mqtt://127.0.0.1:{hport}", "--timeout", "3",
                         "--json"], 30)
        print(f"black hole: mqtt-doctor verdict in {t:.3f} s for --timeout 3 "
              f"({t/3:.3f} × timeout, exit {code})")
        if not QUICK:
            t, code = timed(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(hport), "-t", "x",
                             "-C", "1"], 30)
            print("black hole: mosquitto_sub " + ("> 30 s" if code is None else f"{t:.3f} s"))
        filler.close()
        hole.close()
    finally:
        if relay:
            relay.kill()
        broker.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
