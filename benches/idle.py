#!/usr/bin/env python3
"""Idle CPU, start-up time and RSS of `target/release/beatbot serve` against the stdlib fake Bot API
of ../shared/bench (run from the repository root after `cargo build --release`):
    python3 benches/idle.py 60
Start-up: exec to /healthz answering. Idle: run time of every thread from /proc/PID/task/*/schedstat
(nanoseconds, not tick-sampled) over the given seconds, 5 s after start-up."""
import subprocess, time, os, sys, socket, tempfile, urllib.request
B=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")
def free_port():
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); return p
port=free_port(); web=free_port(); api=f"http://127.0.0.1:{port}"
fake=subprocess.Popen([sys.executable, B+"/fake_telegram.py","--port",str(port),"--token","1:T"]); time.sleep(0.7)
d=tempfile.mkdtemp()
env=dict(os.environ, BEATBOT_TELEGRAM__TOKEN="1:T", BEATBOT_TELEGRAM__API_URL=api, BEATBOT_SCRIPTS_DIR="bot-scripts", BEATBOT_DATA_DIR=d, BEATBOT_DATABASE__URL=f"sqlite://{d}/b.db", BEATBOT_WEB__BIND=f"127.0.0.1:{web}")
subprocess.run(["target/release/beatbot","migrate"],env=env,stdout=subprocess.DEVNULL)
t0=time.time()
bot=subprocess.Popen(["target/release/beatbot","serve"],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
while True:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz",timeout=1).read(); break
    except Exception: time.sleep(0.005)
print(f"start-up to serving: {(time.time()-t0)*1000:.0f} ms")
def cpu():
    # nanosecond run time of every thread (schedstat), not tick-sampled utime/stime
    return sum(int(open(f"/proc/{bot.pid}/task/{t}/schedstat").read().split()[0]) for t in os.listdir(f"/proc/{bot.pid}/task"))/1e9
time.sleep(5); c0=cpu(); secs=int(sys.argv[1]); time.sleep(secs); c1=cpu()
rss=[l for l in open(f"/proc/{bot.pid}/status") if l.startswith("VmRSS")][0].split()[1]
print(f"idle over {secs} s: {(c1-c0)/secs*100:.3f}% of a core; RSS {int(rss)/1024:.0f} MB")
bot.terminate(); fake.terminate()
