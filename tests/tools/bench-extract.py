#!/usr/bin/env python3
"""Extraction speed, side by side in one run: diembao's extractor and trafilatura over
the same pages, one core each (taskset), pages/s for both and their ratio; plus the F1
of both with shared/tools/extraction-score.py.

Usage: tests/tools/bench-extract.py [DIEMBAO_BIN] [PAGES_DIR] [GROUND_TRUTH]
Needs: pip install trafilatura lxml_html_clean

Each side first runs one untimed round over the pages (ours: the binary and the
pages in the page cache; trafilatura: its lazy imports and lxml set-up), so the
timed rounds compare steady states. Besides wall-clock rates it reports rates by CPU time (user + system), which
stay comparable when other work shares the machine: the two sides run one
after the other, so a busy neighbour skews the wall-clock ratio.
"""
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/release/diembao")
pages_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "../shared/corpus/extraction-dev/html")
truth = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "../shared/corpus/extraction-dev/ground-truth.json")
scorer = os.path.join(root, "../shared/tools/extraction-score.py")
files = sorted(glob.glob(os.path.join(pages_dir, "*.html")))
rounds = 5

def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def ours():
    # Warm-up, untimed, like trafilatura's below: the binary and the pages in the page
    # cache, as they are for a worker that has been running.
    subprocess.run(["taskset", "-c", "0", binary, "extract", *files, "--json"], capture_output=True, check=False)
    start = time.perf_counter()
    cpu_start = child_cpu()
    for _ in range(rounds):
        out = subprocess.run(["taskset", "-c", "0", binary, "extract", *files, "--json"], capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    cpu = child_cpu() - cpu_start
    pred = {}
    for line in out.stdout.decode().splitlines():
        obj = json.loads(line)
        pred[os.path.basename(obj["file"])[:-5]] = {"articleBody": obj.get("text") or ""}
    return len(files) * rounds / elapsed, len(files) * rounds / cpu, pred

def theirs():
    code = (
        "import sys, json, time, trafilatura\n"
        "files = json.load(sys.stdin)\n"
        "pages = [open(f, encoding='utf-8', errors='replace').read() for f in files]\n"
        f"rounds = {rounds}\n"
        "warm = [trafilatura.extract(p) for p in pages]\n"
        "start = time.perf_counter()\n"
        "cpu_start = time.process_time()\n"
        "for _ in range(rounds):\n"
        "    out = [trafilatura.extract(p) or '' for p in pages]\n"
        "elapsed = time.perf_counter() - start\n"
        "cpu = time.process_time() - cpu_start\n"
        "print(json.dumps({'rate': len(pages) * rounds / elapsed, 'cpu_rate': len(pages) * rounds / cpu, 'texts': out}))\n"
    )
    proc = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", code], input=json.dumps(files).encode(), capture_output=True, check=True)
    result = json.loads(proc.stdout)
    pred = {os.path.basename(f)[:-5]: {"articleBody": t} for f, t in zip(files, result["texts"])}
    return result["rate"], result["cpu_rate"], pred

def score(pred):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(pred, f)
    out = subprocess.run([sys.executable, scorer, truth, f.name], capture_output=True, text=True, check=True).stdout.strip()
    os.unlink(f.name)
    return out

our_rate, our_cpu_rate, our_pred = ours()
their_rate, their_cpu_rate, their_pred = theirs()
print(f"pages: {len(files)} x {rounds} rounds, one core each")
print(f"diembao:     {our_rate:8.1f} pages/s ({1000 / our_rate:.2f} ms/page, process start included; CPU time {1000 / our_cpu_rate:.2f} ms/page)  {score(our_pred)}")
print(f"trafilatura: {their_rate:8.1f} pages/s ({1000 / their_rate:.2f} ms/page; CPU time {1000 / their_cpu_rate:.2f} ms/page)  {score(their_pred)}")
print(f"ratio: {our_rate / their_rate:.1f}x wall clock, {our_cpu_rate / their_cpu_rate:.1f}x CPU time")
