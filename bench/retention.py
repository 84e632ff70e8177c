#!/usr/bin/env python3
"""Issue 6 item 5: does the database file stop growing once retention prunes old bodies?
Run by bench/retention.sh (Python 3 standard library and the sqlite3 CLI only).

  retention.py BINARY WORKDIR

Two runs of the same load, each on a new database: retention.days=1 ("on") and
retention.days=0 ("off", bodies kept forever). A run starts seedhook with the simulator,
creates jobs whose prompt holds [sim:no-callback] (only our callbacks arrive), then for each
round: POSTs ROUND_SIZE evolink "processing" callbacks of ~BODY_KIB KiB from THREADS
keep-alive HTTPS connections; ages every delivery still holding a body by two days with the
sqlite3 CLI; with retention on, waits for the sweep to empty those bodies; and records the
sizes of seedhook.db and seedhook.db-wal, page_count, freelist_count and seedhook's RSS.

Knobs (environment): RETENTION_ROUNDS (20), RETENTION_ROUND_SIZE (1000 callbacks),
RETENTION_THREADS (4), RETENTION_JOBS (50), RETENTION_BODY_KIB (16), RETENTION_SWEEP_MS (500),
RETENTION_PRUNE_TIMEOUT (30 s), RETENTION_RUNS ("on,off").
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (bench/bench.py: TLS context, job preparation, readiness, /proc)

MiB = 1024 * 1024
TWO_DAYS_MS = 2 * 86400 * 1000
# Deliveries already moved two days back (retention.days=1 deletes exactly these).
AGED = "(received_at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000)"


def knob(name, default):
    return int(os.environ.get(name, default))


ROUNDS = knob("RETENTION_ROUNDS", 20)
ROUND_SIZE = knob("RETENTION_ROUND_SIZE", 1000)
THREADS = knob("RETENTION_THREADS", 4)
JOBS = knob("RETENTION_JOBS", 50)
BODY_KIB = knob("RETENTION_BODY_KIB", 16)
SWEEP_MS = knob("RETENTION_SWEEP_MS", 500)
PRUNE_TIMEOUT = knob("RETENTION_PRUNE_TIMEOUT", 30)
RUNS = [r.strip() for r in os.environ.get("RETENTION_RUNS", "on,off").split(",") if r.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite(db, sql):
    """Runs SQL with the sqlite3 CLI on the live database; returns the output lines.
    .timeout: seedhook's writer may hold the write lock (a group commit, a sweep)."""
    script = ".timeout 10000\n.bail on\n" + sql + "\n"
    out = subprocess.run(["sqlite3", "-batch", db], input=script, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"sqlite3 failed on {db}: {out.stderr.strip()}")
    return out.stdout.split()


def size(path):
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


class Seedhook:
    def __init__(self, binary, workdir, days):
        os.makedirs(workdir, exist_ok=True)
        self.db = os.path.join(workdir, "seedhook.db")
        self.log = os.path.join(workdir, "seedhook.log")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.api_token = f"retention-api-token-{os.getpid()}"
        self.secret = "retention-callback-secret-0123456789abcdef"
        config = {
            "listen": {"address": "127.0.0.1", "port": self.port},
            "tls": {"self_signed": True},
            "public_base_url": self.url,
            "callbacks": {"allow_private_hosts": True},
            "database": {"path": self.db},
            # No provider polling: only the callbacks posted here write deliveries.
            "polling": {"enabled": False},
            "simulator": {"enabled": True},
            "retention": {"days": days, "sweep_interval_ms": SWEEP_MS},
            "log": {"level": "info"},
        }
        self.config = os.path.join(workdir, "seedhook.json")
        with open(self.config, "w") as f:
            json.dump(config, f, indent=2)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SEEDHOOK_") and k not in ("EVOLINK_API_KEY", "TOAPIS_API_KEY", "ACEDATA_API_KEY")}
        env["SEEDHOOK_AUTH_API_TOKENS"] = self.api_token
        env["SEEDHOOK_CALLBACKS_SECRET"] = self.secret
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen([binary, "--config", self.config], stdout=out,
                                         stderr=subprocess.STDOUT, env=env)
        if bench.wait_ready(self.url + "/readyz", 20, 0.05) is None:
            self.stop()
            sys.exit(f"seedhook did not get ready in 20 s; see {self.log}")

    def alive(self):
        return self.proc.poll() is None

    def rss_mib(self):
        rss, _ = bench.memory_kib([self.proc.pid])
        return rss / 1024

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def post_round(server, jobs, first_seq, count, progress):
    """POSTs `count` callbacks round-robin over the jobs from THREADS keep-alive connections.
    Returns (answers 200, seconds). Exits on any other answer."""
    host, port = "127.0.0.1", server.port
    todo = iter(range(first_seq, first_seq + count))
    lock = threading.Lock()
    ok, errors = [0], []
    pad_unit = "retention bench padding, a stand-in for a provider's long prompt. "
    padding = (pad_unit * (BODY_KIB * 1024 // len(pad_unit) + 1))[: BODY_KIB * 1024]

    def worker():
        conn = None
        while True:
            with lock:
                seq = next(todo, None)
                if seq is None or errors:
                    break
                job_id, task_id, token = jobs[seq % len(jobs)]
                progress[job_id] = min(99, progress.get(job_id, 0) + 1)
                pct = progress[job_id]
            body = json.dumps({"id": task_id, "object": "video.generation.task", "status": "processing",
                               "progress": pct, "prompt": f"#{seq} " + padding})
            path = f"/v1/callbacks/evolink/{job_id}?token={token}"
            for attempt in (1, 2):  # one reconnect if the server closed the idle connection
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection(host, port, context=bench.tls_context(), timeout=30)
                    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        with lock:
                            errors.append(f"callback answered {resp.status}: {data[:300]!r}")
                    else:
                        with lock:
                            ok[0] += 1
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if attempt == 2:
                        with lock:
                            errors.append(f"callback failed: {e!r}")
        if conn is not None:
            conn.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        server.stop()
        sys.exit(f"round failed: {errors[0]} (see {server.log})")
    return ok[0], time.monotonic() - started


def run(binary, workdir, label, days):
    print(f"== retention {label}: retention.days={days}, sweep every {SWEEP_MS} ms; {ROUNDS} rounds of "
          f"{ROUND_SIZE} callbacks of ~{BODY_KIB} KiB from {THREADS} connections, {JOBS} jobs", flush=True)
    server = Seedhook(binary, workdir, days)
    rows = []
    try:
        jobs_file = os.path.join(workdir, "jobs.txt")
        print("   ", end="", flush=True)
        bench.cmd_prepare(server.url, server.api_token, server.secret, JOBS, jobs_file)
        with open(jobs_file) as f:
            jobs = [tuple(line.split()) for line in f if line.strip()]
        header = (f"{'round':>5} {'deliveries':>10} {'db MiB':>8} {'wal MiB':>8} {'pages MiB':>9} "
                  f"{'freelist':>8} {'RSS MiB':>7} {'post s':>6} {'age s':>5} {'prune s':>7}")
        print(header)
        progress = {}
        posted = 0
        for rnd in range(1, ROUNDS + 1):
            answered, post_s = post_round(server, jobs, posted, ROUND_SIZE, progress)
            posted += answered
            # Two days pass. Rewriting received_at of every delivery not yet aged stands in for
            # waiting: with retention.days=1, each round's deliveries are then past the cutoff
            # at the next sweep. The same UPDATE runs with retention off, so both runs carry the
            # same extra writes.
            t0 = time.monotonic()
            sqlite(server.db, f"UPDATE callbacks SET received_at = received_at - {TWO_DAYS_MS} WHERE NOT {AGED};")
            age_s = time.monotonic() - t0
            t0 = time.monotonic()
            prune_s = None
            if days > 0:
                while True:
                    left = int(sqlite(server.db, f"SELECT count(*) FROM callbacks WHERE {AGED};")[0])
                    if left == 0:
                        prune_s = time.monotonic() - t0
                        break
                    if time.monotonic() - t0 > PRUNE_TIMEOUT:
                        print(f"   round {rnd}: {left} old deliveries still there after {PRUNE_TIMEOUT} s", flush=True)
                        break
                    time.sleep(0.1)
            else:
                time.sleep(SWEEP_MS / 1000)  # the same pause, nothing to wait for
            if not server.alive():
                sys.exit(f"seedhook exited (status {server.proc.returncode}); see {server.log}")
            page_size, page_count, freelist, deliveries, with_body = (int(v) for v in sqlite(
                server.db, "PRAGMA page_size; PRAGMA page_count; PRAGMA freelist_count; "
                           "SELECT count(*) FROM callbacks; SELECT count(*) FROM callbacks WHERE body <> '';"))
            row = {
                "round": rnd, "answered": posted, "deliveries": deliveries, "with_body": with_body,
                "db": size(server.db), "wal": size(server.db + "-wal"),
                "page_size": page_size, "page_count": page_count, "freelist": freelist,
                "rss_mib": server.rss_mib(), "post_s": post_s, "age_s": age_s, "prune_s": prune_s,
            }
            rows.append(row)
            print(f"{rnd:>5} {deliveries:>10,} {row['db'] / MiB:>8.1f} {row['wal'] / MiB:>8.1f} "
                  f"{page_count * page_size / MiB:>9.1f} {freelist:>8,} {row['rss_mib']:>7.1f} "
                  f"{post_s:>6.1f} {age_s:>5.2f} {'-' if prune_s is None else f'{prune_s:.1f}':>7}", flush=True)
            if days == 0 and deliveries != posted:
                print(f"   note: {posted} answers 200 but {deliveries} deliveries in the table", flush=True)
    finally:
        server.stop()
    after_stop = {"db": size(server.db), "wal": size(server.db + "-wal")}
    leaves = leaf_pages(server.db)
    print(f"   after shutdown: db {after_stop['db'] / MiB:.1f} MiB, wal {after_stop['wal'] / MiB:.1f} MiB"
          + (f"; table callbacks: {leaves['pages']:,} leaf pages for {leaves['rows']:,} rows "
             f"({leaves['rows_per_page']:.1f} a page, {leaves['unused_pct']:.0f}% of them empty), "
             f"{leaves['overflow']:,} overflow pages" if leaves else ""), flush=True)
    return {"label": label, "days": days, "rows": rows, "after_stop": after_stop, "leaves": leaves}


def leaf_pages(db):
    """How full the callbacks table's leaf pages are (dbstat; None if this sqlite3 lacks it).
    A pruned row keeps its place in its leaf page: new rows always go to the right-most leaf."""
    try:
        out = subprocess.run(["sqlite3", "-batch", db,
                              "SELECT count(*) FILTER (WHERE pagetype = 'leaf'), "
                              "coalesce(sum(ncell) FILTER (WHERE pagetype = 'leaf'), 0), "
                              "coalesce(sum(unused) FILTER (WHERE pagetype = 'leaf'), 0), "
                              "coalesce(sum(pgsize) FILTER (WHERE pagetype = 'leaf'), 1), "
                              "count(*) FILTER (WHERE pagetype = 'overflow') "
                              "FROM dbstat WHERE name = 'callbacks';"],
                             capture_output=True, text=True, timeout=120)
        pages, rows, unused, total, overflow = (int(v) for v in out.stdout.strip().split("|"))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return {"pages": pages, "rows": rows, "rows_per_page": rows / max(pages, 1),
            "unused_pct": 100 * unused / total, "overflow": overflow}


def growth(result):
    """db-file and logical-size growth over the last half of the rounds, and per delivery."""
    rows = result["rows"]
    a, b = rows[len(rows) // 2 - 1] if len(rows) >= 2 else rows[0], rows[-1]
    n = max(b["answered"] - a["answered"], 1)  # posted, whether or not retention kept them
    logical = (b["page_count"] - b["freelist"]) * b["page_size"] - (a["page_count"] - a["freelist"]) * a["page_size"]
    return {"from": a["round"], "to": b["round"], "db": b["db"] - a["db"], "per_delivery": (b["db"] - a["db"]) / n,
            "used_per_delivery": logical / n, "deliveries": n}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, workdir = sys.argv[1], sys.argv[2]
    results = {}
    for label in RUNS:
        days = {"on": 1, "off": 0}[label]
        results[label] = run(binary, os.path.join(workdir, label), label, days)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    print()
    body = BODY_KIB * 1024
    for label, r in results.items():
        g = growth(r)
        print(f"retention {label:<3}: db file {r['rows'][g['from'] - 1]['db'] / MiB:.1f} → {r['rows'][-1]['db'] / MiB:.1f} MiB "
              f"over rounds {g['from']}→{g['to']}: {g['db'] / MiB:+.1f} MiB, {g['per_delivery']:,.0f} B per delivery "
              f"(pages in use: {g['used_per_delivery']:,.0f} B per delivery)")
    if "on" in results and "off" in results:
        on, off = growth(results["on"]), growth(results["off"])
        ratio = on["db"] / off["db"] if off["db"] > 0 else float("nan")
        mid = results["on"]["rows"][on["from"] - 1]["db"]
        leaves = results["on"].get("leaves")
        where = (f"; the callbacks table's leaf pages hold {leaves['rows_per_page']:.1f} rows each, "
                 f"{leaves['unused_pct']:.0f}% empty" if leaves else "")
        if on["db"] <= 0.02 * mid:
            conclusion = "PLATEAU: with retention the file stopped growing."
        elif on["per_delivery"] < 0.5 * off["per_delivery"]:
            conclusion = (f"NO PLATEAU, slower linear growth: the file "
                          f"still grows by {on['per_delivery']:,.0f} B per delivery kept{where}.")
        else:
            conclusion = (f"NOT BOUNDED: retention frees (almost) no file space; the file grows by "
                          f"{on['per_delivery']:,.0f} B per delivery either way{where}.")
        print(f"VERDICT: db file growth over the last half of the rounds ({on['from']}→{on['to']}), retention on vs off: "
              f"{on['db'] / MiB:+.1f} MiB vs {off['db'] / MiB:+.1f} MiB ({ratio:.1%}); "
              f"{on['per_delivery']:,.0f} vs {off['per_delivery']:,.0f} B per delivery (bodies ~{body:,} B). "
              + conclusion)
    print(f"(details: {workdir}/results.json)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
