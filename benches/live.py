#!/usr/bin/env python3
"""Helpers of benches/live.sh (the live input benchmark, issue 14). Standard library only.

  live.py cpu --pids NAME=PID,... --secs S
      CPU seconds (utime + stime from /proc/PID/stat, children excluded) and RSS of each
      process over S seconds; prints one JSON object {name: {"cpu_s", "rss_kib"}}.

  live.py latency --source FILE.mp3 --to URL ... --listen NAME=URL ... --out DIR
      Source-to-listener latency. Listeners connect first and keep every byte with its
      arrival time. Then one sender streams FILE (CBR MP3, 44.1 kHz: short tone bursts, each
      after silence, each of one of six frequencies) to every --to source URL
      (http://user:password@host:port/mount, the Icecast source protocol) at once, one MP3
      frame at a time on the wall clock. An onset's source instant is when its sample is due
      (the sender's start plus its position in FILE, decoded); its listener instant is when
      the MP3 frame holding it arrived at the listener's socket ("arrival"), and when a player
      that starts playing on the first byte it receives, in real time, plays it ("heard":
      the arrival plus the burst the server sent first). Prints one JSON object
      {name: {"onsets", "at", "arrival": {"median_s", "max_s", "min_s"}, "heard": {...}}}.
      Needs ffmpeg (decoding only).
"""

import argparse
import base64
import json
import math
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

RATE = 44100
FRAME = 1152
FREQS = [500.0, 700.0, 900.0, 1100.0, 1300.0, 1500.0]
BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
SAMPLE_RATES = [44100, 48000, 32000]


def cpu(args):
    names = dict(p.split("=") for p in args.pids.split(","))
    tick = os.sysconf("SC_CLK_TCK")

    def sample(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def rss(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    before = {n: sample(p) for n, p in names.items()}
    time.sleep(args.secs)
    out = {n: {"cpu_s": round(sample(p) - before[n], 2), "rss_kib": rss(p)} for n, p in names.items()}
    print(json.dumps(out))


def mp3_frames(data):
    """Offsets of the MPEG-1 Layer III frames in data (free of ICY metadata)."""
    offsets, i = [], 0
    while i + 4 <= len(data):
        h = struct.unpack(">I", data[i : i + 4])[0]
        if (h >> 21) & 0x7FF == 0x7FF and (h >> 19) & 3 == 3 and (h >> 17) & 3 == 1:
            br, sr, pad = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
            if 0 < br < 15 and sr < 3:
                length = 144 * BITRATES[br] * 1000 // SAMPLE_RATES[sr] + pad
                if i + length == len(data) or data[i + length : i + length + 1] == b"\xff" or i + length > len(data):
                    offsets.append(i)
                    i += length
                    continue
        i += 1
    return offsets


def decode(data):
    """Mono 8 kHz PCM of MP3 bytes, through ffmpeg."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1"],
        input=data, capture_output=True, check=True,
    ).stdout
    return struct.unpack(f"<{len(out) // 2}h", out)


def goertzel(s, f):
    k = 2 * math.cos(2 * math.pi * f / 8000)
    a = b = 0.0
    for x in s:
        a, b = x + k * a - b, a
    return a * a + b * b - k * a * b


def onsets(pcm):
    """(sample at 8 kHz, frequency index) of every tone burst after at least 1 s of quiet."""
    win = 80  # 10 ms
    env = [math.sqrt(sum(x * x for x in pcm[i : i + win]) / win) for i in range(0, len(pcm) - win, win)]
    if not env:
        return []
    loud = sorted(env)[int(len(env) * 0.97)]
    # `quiet` counts the quiet windows since the last loud one: the windows in between (a
    # burst's rising edge, its decay) neither count nor reset it.
    found, quiet = [], 0
    for j, e in enumerate(env):
        if e > loud * 0.3 and quiet >= 100:
            # 50 ms: wide enough (20 Hz) for the drift control's pitch change (at most 1 %).
            seg = pcm[j * win : j * win + 400]
            powers = [goertzel(seg, f) for f in FREQS]
            total = sum(x * x for x in seg) * len(seg) / 2 or 1
            best = max(range(len(FREQS)), key=lambda k: powers[k])
            # A pure tone, not music: most of the energy at one of the six frequencies.
            if powers[best] / total > 0.5:
                found.append((j * win, best))
            quiet = 0
        elif e > loud * 0.3:
            quiet = 0
        elif e < loud * 0.05:
            quiet += 1
    return found


class Listener(threading.Thread):
    def __init__(self, name, url):
        super().__init__(daemon=True)
        self.name, self.url = name, urllib.parse.urlsplit(url)
        self.data, self.arrivals, self.stop = bytearray(), [], False

    def run(self):
        s = socket.create_connection((self.url.hostname, self.url.port))
        s.sendall(f"GET {self.url.path} HTTP/1.0\r\nHost: {self.url.hostname}\r\nUser-Agent: live-bench\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        s.settimeout(1)
        while not self.stop:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            self.data += chunk
            self.arrivals.append((len(self.data), time.time()))

    def arrival_of(self, offset):
        for end, t in self.arrivals:
            if end > offset:
                return t
        return None


def connect_source(url):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port))
    auth = base64.b64encode(f"{urllib.parse.unquote(u.username)}:{urllib.parse.unquote(u.password)}".encode()).decode()
    s.sendall(
        f"SOURCE {u.path} HTTP/1.0\r\nAuthorization: Basic {auth}\r\nContent-Type: audio/mpeg\r\n"
        f"Ice-Name: latency\r\nUser-Agent: live-bench\r\n\r\n".encode()
    )
    answer = s.recv(4096)
    if b" 200 " not in answer.split(b"\r\n", 1)[0]:
        sys.exit(f"{u.hostname}:{u.port}{u.path} refused the source: {answer[:200]!r}")
    return s


def latency(args):
    source = open(args.source, "rb").read()
    frames = mp3_frames(source)
    listeners = [Listener(*spec.split("=", 1)) for spec in args.listen]
    for l in listeners:
        l.start()
    time.sleep(2)
    sinks = [connect_source(u) for u in args.to]
    t0 = time.time()
    for i, start in enumerate(frames):
        end = frames[i + 1] if i + 1 < len(frames) else len(source)
        due = t0 + i * FRAME / RATE
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        for s in sinks:
            s.sendall(source[start:end])
    time.sleep(args.tail)
    for s in sinks:
        s.close()
    for l in listeners:
        l.stop = True
    src = onsets(decode(source))
    report = {"source_onsets": len(src)}
    for l in listeners:
        data = bytes(l.data)
        offsets = mp3_frames(data)
        heard = onsets(decode(data))
        # A player that starts on the first audio byte and plays on in real time hears
        # sample n at first + n / rate: behind the arrivals by the burst it was sent.
        first = l.arrival_of(offsets[0]) if offsets else None
        arrived, played, seen = [], [], []
        for sample, k in heard:
            frame = min(sample * RATE // 8000 // FRAME, len(offsets) - 1)
            at = l.arrival_of(offsets[frame])
            if at is None:
                continue
            plays = first + sample / 8000
            due = [t0 + s8 / 8000 for s8, k2 in src if k2 == k]
            due = [d for d in due if 0 <= at - d < len(FREQS) * args.spacing]
            if due:
                d = max(due)
                arrived.append(at - d)
                played.append(plays - d)
                seen.append(round(d - t0, 2))

        def stats(xs):
            if not xs:
                return {"median_s": None, "max_s": None, "min_s": None}
            return {"median_s": round(statistics.median(xs), 2), "max_s": round(max(xs), 2), "min_s": round(min(xs), 2)}

        report[l.name] = {"onsets": len(arrived), "at": seen, "arrival": stats(arrived), "heard": stats(played)}
        with open(os.path.join(args.out, f"{l.name}.mp3"), "wb") as f:
            f.write(data)
    print(json.dumps(report))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cpu")
    c.add_argument("--pids", required=True)
    c.add_argument("--secs", type=float, required=True)
    l = sub.add_parser("latency")
    l.add_argument("--source", required=True)
    l.add_argument("--to", action="append", required=True)
    l.add_argument("--listen", action="append", required=True)
    l.add_argument("--out", required=True)
    l.add_argument("--spacing", type=float, default=4.0, help="seconds between two onsets in FILE")
    l.add_argument("--tail", type=float, default=25.0, help="seconds listened after the last frame")
    args = p.parse_args()
    {"cpu": cpu, "latency": latency}[args.cmd](args)


if __name__ == "__main__":
    main()
