#!/usr/bin/env python3
# The bench for issue 14: mqtt-doctor and mosquitto_sub side by side through relay.py against
# the same real Mosquitto; prints medians (min, max) and ratios measured in one invocation.
#   python3 bench/bench.py [--quick]      (MQTT_DOCTOR=path picks the binary; release if built)
# Root (or sudo -n) is needed for the dual-stack figure (ip netns); without it that line says so.
import os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv
RUNS = 5 if QUICK else 7
RTT_MS = 50.0
RTT = RTT_MS / 1000.0
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target"))


def pick_binary():
    if os.environ.get("MQTT_DOCTOR"):
        return os.environ["MQTT_DOCTOR"]
    for profile in ("release", "debug"):
        p = os.path.join(TARGET, profile, "mqtt-doctor")
        if os.path.exists(p):
            return p
    return shutil.which("mqtt-doctor") or os.path.join(TARGET, "debug", "mqtt-doctor")


DOCTOR = pick_binary()
NULL = subprocess.DEVNULL


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


def measured(cmd, cap=30.0):
    """Runs cmd under GNU time; returns (wall s, CPU s, peak RSS KB, exit code or None when
    killed at cap). Peak RSS is time(1)'s: a child forked from this Python would keep Python's
    high-water RSS across exec. CPU is wait4's (the command and time, with microseconds)."""
    out = os.path.join(tempfile.gettempdir(), f"mqtt-doctor-bench-time-{os.getpid()}")
    t = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-q", "-o", out, "-f", "%M", *cmd],
                         stdout=NULL, stderr=NULL)
    timer = threading.Timer(cap, p.kill)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode < 0:
        return wall, 0.0, 0, None
    with open(out) as f:
        rss = int(f.read().split()[-1])
    os.unlink(out)
    return wall, ru.ru_utime + ru.ru_stime, rss, p.returncode


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def ms(xs):
    m, lo, hi = stats(xs)
    return f"{m*1000:.0f} ms ({lo*1000:.0f}–{hi*1000:.0f})"


def side_by_side(doctor, sub, runs=RUNS, want=0):
    d, m = [], []
    for _ in range(runs):
        r = measured(doctor)
        assert r[3] == want, f"mqtt-doctor exited {r[3]}: {' '.join(doctor)}"
        d.append(r)
        r = measured(sub)
        assert r[3] == 0, f"mosquitto_sub exited {r[3]}: {' '.join(sub)}"
        m.append(r)
    return d, m


def relay(upstream_port, prefix=()):
    proc = subprocess.Popen([*prefix, sys.executable, os.path.join(HERE, "relay.py"), str(RTT_MS),
                             "127.0.0.1", str(upstream_port)], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def relay_overhead():
    # A local echo server behind the same relay code: time per exchange minus the RTT.
    echo = socket.socket()
    echo.bind(("127.0.0.1", 0))
    echo.listen(1)
    proc, rport = relay(echo.getsockname()[1])
    c = socket.create_connection(("127.0.0.1", rport))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s, _ = echo.accept()
    samples = []
    for _ in range(6):
        t = time.monotonic()
        c.sendall(b"x")
        s.recv(1)
        s.sendall(b"y")
        c.recv(1)
        samples.append(time.monotonic() - t)
    proc.kill()
    # The first exchange carries the emulated handshake RTT.
    return statistics.median(samples[1:]) * 1000.0 - RTT_MS


def make_pki(d):
    """A CA and a server certificate for 127.0.0.1 (openssl, made at run time)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=NULL, stderr=NULL)
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=bench CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=127.0.0.1")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext)
    return ca, cert, key


def start_mosquitto(d, conf_text, ports, prefix=()):
    conf = os.path.join(d, f"mosquitto-{ports[0]}.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
        if os.geteuid() == 0:
            f.write("user root\n")
    proc = subprocess.Popen([*prefix, "mosquitto", "-c", conf], stdout=NULL, stderr=NULL)
    return proc


def retained(port, prefix=()):
    for _ in range(100):
        r = subprocess.run([*prefix, "mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t",
                            "bench/retained", "-r", "-m", "hello"], stdout=NULL, stderr=NULL)
        if r.returncode == 0:
            return
        time.sleep(0.05)
    raise SystemExit(f"cannot publish to the broker on {port}")


def black_hole():
    """A listener whose accept queue is full: the kernel drops further SYNs (field notes)."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    filler = socket.socket()
    filler.setblocking(False)
    try:
        filler.connect(hole.getsockname())
    except BlockingIOError:
        pass
    time.sleep(0.05)
    return hole, filler


def dual_stack(tmp, out):
    """A network namespace where dual.bench has a dead IPv6 address (on a veth, no neighbour
    answers: the SYN never leaves) and 127.0.0.1; v4.bench has 127.0.0.1 only. Broker and relay
    run inside it."""
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    ns = f"mqdbench{os.getpid()}"
    if subprocess.run([*sudo, "ip", "netns", "add", ns], stdout=NULL, stderr=NULL).returncode:
        out.append("dual stack: not measured (`ip netns add` needs root or sudo -n)")
        return
    exe = [*sudo, "ip", "netns", "exec", ns]
    etc = f"/etc/netns/{ns}"
    procs = []
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "va", "type", "veth", "peer", "name", "vb"],
                    ["ip", "link", "set", "va", "up"], ["ip", "link", "set", "vb", "up"],
                    ["ip", "-6", "addr", "add", "fd00:db8::1/64", "dev", "va", "nodad"]):
            subprocess.run([*exe, *cmd], check=True, stdout=NULL, stderr=NULL)
        subprocess.run([*sudo, "mkdir", "-p", etc], check=True)
        hosts = "fd00:db8::2 dual.bench\n127.0.0.1 dual.bench\n127.0.0.1 v4.bench\n"
        subprocess.run([*sudo, "tee", f"{etc}/hosts"], input=hosts.encode(), stdout=NULL,
                       check=True)
        port = free_port()
        procs.append(start_mosquitto(tmp, f"set_tcp_nodelay true\nlistener {port} 127.0.0.1\n"
                                     "allow_anonymous true\npersistence false\n", [port], exe))
        retained(port, exe)
        rproc, rport = relay(port, exe)
        procs.append(rproc)
        runs = {"dual": [], "v4": []}
        for _ in range(RUNS):
            for name in runs:
                r = measured([*exe, DOCTOR, "check", f"mqtt://{name}.bench:{rport}", "--topic",
                              "bench/retained", "--json"])
                assert r[3] == 0, f"dual stack check of {name}.bench exited {r[3]}"
                runs[name].append(r[0])
        dm, v4 = stats(runs["dual"])[0], stats(runs["v4"])[0]
        out.append(f"| dual stack, dead IPv6 first | {ms(runs['dual'])} | ÷ IPv4-only "
                   f"{dm / v4:.2f} |")
        out.append(f"| IPv4 only | {ms(runs['v4'])} | 1.00 |")
    finally:
        for p in procs:
            p.kill()
        subprocess.run([*sudo, "ip", "netns", "del", ns], stdout=NULL, stderr=NULL)
        subprocess.run([*sudo, "rm", "-rf", etc], stdout=NULL, stderr=NULL)


def fleet(tmp, rport, n=100):
    """`check --all` over n profiles, all through the relay to the same broker."""
    conf = os.path.join(tmp, "fleet.toml")
    with open(conf, "w") as f:
        f.write("version = 1\n")
        for i in range(n):
            f.write(f'\n[profiles.p{i:03}]\nurl = "mqtt://127.0.0.1:{rport}"\n'
                    'topics = ["bench/retained"]\n')
    one, all_default, all_wide = [], [], []
    for _ in range(3 if QUICK else 5):
        one.append(measured([DOCTOR, "--config", conf, "check", "--profile", "p000", "--json"]))
        all_default.append(measured([DOCTOR, "--config", conf, "check", "--all", "--json"]))
        all_wide.append(measured([DOCTOR, "--config", conf, "check", "--all", "--json",
                                  "--concurrency", str(n)]))
    for name, rs in (("one profile", one), ("--all", all_default), ("--all --concurrency", all_wide)):
        assert all(r[3] == 0 for r in rs), f"fleet run {name} failed: {[r[3] for r in rs]}"
    base = stats([r[0] for r in one])[0]
    lines = [f"| one profile | {ms([r[0] for r in one])} | 1.00 | "
             f"{max(r[2] for r in one) / 1024:.1f} MB |"]
    for label, rs in ((f"--all, {n} profiles (default --concurrency)", all_default),
                      (f"--all, {n} profiles, --concurrency {n}", all_wide)):
        w = [r[0] for r in rs]
        lines.append(f"| {label} | {ms(w)} | {stats(w)[0] / base:.2f} | "
                     f"{max(r[2] for r in rs) / 1024:.1f} MB |")
    return lines


def idle_ticks(mport):
    """CPU ticks of the app (`mqtt-doctor URL` in tmux) over 5 s once its check has ended."""
    if not shutil.which("tmux"):
        raise SystemExit("tmux is needed for the idle figure (scripts/test installs it)")
    session = f"mqdbench{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"exec {DOCTOR} mqtt://127.0.0.1:{mport}"], check=True)
    try:
        pid = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                 capture_output=True, text=True, check=True).stdout.split()[0])
        time.sleep(2.0)

        def ticks():
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime

        a = ticks()
        time.sleep(5.0)
        return ticks() - a, os.sysconf("SC_CLK_TCK")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], stdout=NULL, stderr=NULL)


def main():
    if not os.path.exists(DOCTOR):
        raise SystemExit(f"build mqtt-doctor first (looked for {DOCTOR}; set MQTT_DOCTOR)")
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="mqtt-doctor-bench-")
    mport, tport = free_port(), free_port()
    ca, cert, key = make_pki(tmp)
    # set_tcp_nodelay: without it Mosquitto's retained PUBLISH waits ~50 ms behind its SUBACK
    # (Nagle meeting the client's delayed ACK), which would swamp the local figures.
    broker = start_mosquitto(tmp, "set_tcp_nodelay true\n"
                             f"listener {mport} 127.0.0.1\nallow_anonymous true\n"
                             f"persistence false\n\nlistener {tport} 127.0.0.1\n"
                             f"allow_anonymous true\ncertfile {cert}\nkeyfile {key}\n"
                             "tls_version tlsv1.3\n", [mport, tport])
    procs = [broker]
    hole, filler = black_hole()
    hport = hole.getsockname()[1]
    try:
        wait_port(mport)
        wait_port(tport)
        retained(mport)
        # mosquitto_sub's black hole runs in the background for its 30 s cap meanwhile.
        sub_hole = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(hport), "-t",
                                     "x", "-C", "1"], stdout=NULL, stderr=NULL)
        sub_hole_t = time.monotonic()
        procs.append(sub_hole)
        overhead = relay_overhead()
        p, rplain = relay(mport)
        procs.append(p)
        p, rtls = relay(tport)
        procs.append(p)
        kind = os.environ.get("MQTT_DOCTOR_BUILD") or (
            "release" if "/release/" in DOCTOR else "debug" if "/debug/" in DOCTOR else "?")
        print(f"# mqtt-doctor bench, {time.strftime('%Y-%m-%d %H:%M')} on {os.uname().nodename}"
              f" ({os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}), relay RTT "
              f"{RTT_MS:.0f} ms, {RUNS} runs each")
        print(f"binary: {DOCTOR} ({kind} build, {os.path.getsize(DOCTOR) / 1e6:.1f} MB)")
        print(f"relay overhead per round trip: {overhead:.2f} ms")
        print()
        # "RTT" divides by the nominal 50 ms; "RTT net" by 50 ms + the relay's measured overhead.
        net = RTT + overhead / 1000.0
        print("| healthy check, retained | median (min–max) | RTT | RTT net | ÷ floor | "
              "÷ mosquitto_sub |")
        print("|---|---|---|---|---|---|")
        topic = ["--topic", "bench/retained", "--json"]
        for scheme, port, floor, extra, sub_extra in (
                ("mqtt", rplain, 2, [], []),
                ("mqtts", rtls, 3, ["--ca", ca], ["--cafile", ca, "--tls-version", "tlsv1.3"])):
            d, m = side_by_side(
                [DOCTOR, "check", f"{scheme}://127.0.0.1:{port}", *extra, *topic],
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), *sub_extra, "-t",
                 "bench/retained", "-C", "1"])
            dm, mm = stats([r[0] for r in d])[0], stats([r[0] for r in m])[0]
            print(f"| {scheme}:// mqtt-doctor | {ms([r[0] for r in d])} | {dm/RTT:.2f} | "
                  f"{dm/net:.2f} | {dm/RTT/floor:.2f} ({floor} RTT) | {dm/mm:.2f} |")
            print(f"| {scheme}:// mosquitto_sub -C 1 | {ms([r[0] for r in m])} | {mm/RTT:.2f} | "
                  f"{mm/net:.2f} | {mm/RTT/floor:.2f} | 1.00 |")
        print()
        # One local check, whole process, no relay.
        d, m = side_by_side([DOCTOR, "check", f"mqtt://127.0.0.1:{mport}", *topic],
                            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mport), "-t",
                             "bench/retained", "-C", "1"], runs=RUNS * 2)
        print("| one local plain check, whole process | wall | CPU | peak RSS |")
        print("|---|---|---|---|")
        for name, rs in (("mqtt-doctor", d), ("mosquitto_sub -C 1", m)):
            print(f"| {name} | {ms([r[0] for r in rs])} | "
                  f"{stats([r[1] for r in rs])[0]*1000:.1f} ms | "
                  f"{stats([r[2] for r in rs])[0]/1024:.1f} MB |")
        dw, mw = stats([r[0] for r in d])[0], stats([r[0] for r in m])[0]
        dr, mr = stats([r[2] for r in d])[0], stats([r[2] for r in m])[0]
        print(f"| ratio | {dw/mw:.2f} | {stats([r[1] for r in d])[0] / max(stats([r[1] for r in m])[0], 1e-6):.2f}"
              f" | {dr/mr:.2f} |")
        print()
        print("| fleet at 50 ms RTT | median (min–max) | ÷ one profile | peak RSS |")
        print("|---|---|---|---|")
        for line in fleet(tmp, rplain):
            print(line)
        print()
        dual = []
        dual_stack(tmp, dual)
        if len(dual) > 1:
            print("| dual stack at 50 ms RTT (network namespace) | median (min–max) | ratio |")
            print("|---|---|---|")
        for line in dual:
            print(line)
        print()
        t = measured([DOCTOR, "check", f"mqtt://127.0.0.1:{hport}", "--timeout", "3", "--json"])
        print(f"black hole, --timeout 3: mqtt-doctor {t[0]:.3f} s ({t[0]/3:.3f} × timeout, "
              f"exit {t[3]})")
        ticks, hz = idle_ticks(mport)
        print(f"idle app (`mqtt-doctor URL` in tmux, after its check): {ticks} CPU ticks over 5 s "
              f"({hz} ticks/s)")
        left = 30.0 - (time.monotonic() - sub_hole_t)
        try:
            sub_hole.wait(timeout=max(left, 0.0))
            print(f"black hole: mosquitto_sub {time.monotonic() - sub_hole_t:.3f} s")
        except subprocess.TimeoutExpired:
            print("black hole: mosquitto_sub > 30 s (capped)")
        print(f"bench took {time.monotonic() - started:.1f} s")
    finally:
        for p in procs:
            p.kill()
        filler.close()
        hole.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
