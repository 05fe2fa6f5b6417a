#!/usr/bin/env python3
"""CPython audioop's G.711 throughput: the baseline for Parley's audio core.

Times ulaw2lin, lin2ulaw, alaw2lin and lin2alaw on 1 Mi samples of uniformly random data,
the same buffer bench/audio/audio_bench.cpp uses, and prints samples per second.

With --compare FILE (Google Benchmark JSON written by parley_audio_bench) it prints the
comparison with the targets from the audio issue instead: each codec operation as a ratio to
audioop, and resampling as x realtime. scripts/bench runs it that way.
"""

import argparse
import json
import os
import re
import sys
import timeit
import warnings

SAMPLES = 1 << 20

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # audioop is deprecated (gone in 3.13)
    try:
        import audioop
    except ImportError:
        audioop = None

# (Parley benchmark, audioop function, input kind, label, minimum ratio to audioop)
CODEC_OPS = [
    ("BM_UlawDecode", "ulaw2lin", "codes", "mu-law decode", 1.2),
    ("BM_UlawEncode", "lin2ulaw", "pcm", "mu-law encode", 3.0),
    ("BM_AlawDecode", "alaw2lin", "codes", "A-law decode", 1.2),
    ("BM_AlawEncode", "lin2alaw", "pcm", "A-law encode", 3.0),
]

# (input rate, output rate, minimum x realtime or None) at the default quality and phase.
RESAMPLING = [(8000, 16000, 20000), (16000, 8000, None), (24000, 8000, None), (44100, 16000, None)]
DEFAULT_QUALITY = 1  # ResamplerQuality::medium
DEFAULT_LINEAR = 0   # ResamplerPhase::minimum


def audioop_rates():
    """Samples per second for each audioop function, best of five timing runs."""
    codes = os.urandom(SAMPLES)
    pcm = os.urandom(2 * SAMPLES)
    rates = {}
    for _, function, kind, _, _ in CODEC_OPS:
        convert = getattr(audioop, function)
        data = codes if kind == "codes" else pcm
        timer = timeit.Timer(lambda: convert(data, 2))
        number, _ = timer.autorange()
        best = min(timer.repeat(repeat=5, number=number)) / number
        rates[function] = SAMPLES / best
    return rates


def load_benchmarks(path):
    """Benchmark name -> result, preferring the median when repetitions were run."""
    with open(path, encoding="utf-8") as handle:
        entries = json.load(handle)["benchmarks"]
    results = {}
    for entry in entries:
        name = entry.get("run_name", entry["name"])
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                results[name] = entry
        elif name not in results or results[name].get("aggregate_name") != "median":
            results[name] = entry
    return results


def verdict(value, target):
    if value is None:
        return "n/a"
    if target is None:
        return "-"
    return "PASS" if value >= target else "MISS"


def print_codec_table(benchmarks, rates):
    print(f"G.711, one core, {SAMPLES} samples of random data (G = 1e9 samples/s)")
    print(f"  {'operation':<15}{'parley':>11}{'audioop':>11}{'ratio':>9}{'target':>9}  result"
          f"   {'parley, 160-sample frames':>26}")
    for benchmark, function, _, label, target in CODEC_OPS:
        large = benchmarks.get(f"{benchmark}/{SAMPLES}", {}).get("items_per_second")
        frame = benchmarks.get(f"{benchmark}/160", {}).get("items_per_second")
        baseline = rates.get(function) if rates else None
        ratio = large / baseline if large and baseline else None
        print(f"  {label:<15}{fmt_rate(large):>11}{fmt_rate(baseline):>11}"
              f"{(f'{ratio:.2f}x' if ratio else 'n/a'):>9}{f'>={target:g}x':>9}  {verdict(ratio, target):<6}"
              f"   {fmt_rate(frame):>26}")


def print_resampling_table(benchmarks):
    print("Resampling in 20 ms chunks, default quality (medium, minimum phase)")
    print(f"  {'rates':<15}{'x realtime':>11}{'latency':>11}{'worst':>9}{'target':>9}  result")
    for source, target_rate, minimum in RESAMPLING:
        name = (f"BM_Resample20ms/from:{source}/to:{target_rate}/quality:{DEFAULT_QUALITY}"
                f"/linear:{DEFAULT_LINEAR}")
        result = benchmarks.get(name, {})
        speed = result.get("x_realtime")
        latency = result.get("latency_ms")
        worst = result.get("max_latency_ms")
        print(f"  {f'{source} -> {target_rate}':<15}{(f'{speed:,.0f}' if speed else 'n/a'):>11}"
              f"{(f'{latency:.1f} ms' if latency else 'n/a'):>11}{(f'{worst:.0f} ms' if worst else 'n/a'):>9}"
              f"{(f'>={minimum:,}' if minimum else '-'):>9}  {verdict(speed, minimum)}")
    others = sorted(name for name in benchmarks
                    if name.startswith("BM_Resample20ms/")
                    and not re.search(f"quality:{DEFAULT_QUALITY}/linear:{DEFAULT_LINEAR}$", name))
    for name in others:
        result = benchmarks[name]
        print(f"  other: {name.split('/', 1)[1]}: {result.get('x_realtime', 0):,.0f}x realtime, "
              f"latency {result.get('latency_ms', 0):.1f} ms (worst {result.get('max_latency_ms', 0):.0f} ms)")


def fmt_rate(value):
    return f"{value / 1e9:.3g} G" if value else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="BENCH_JSON",
                        help="Google Benchmark JSON from parley_audio_bench to compare against")
    args = parser.parse_args()

    if audioop is None:
        print("audioop_bench: this Python has no audioop module (removed in 3.13)", file=sys.stderr)
    rates = audioop_rates() if audioop else {}

    if not args.compare:
        for _, function, _, _, _ in CODEC_OPS:
            if function in rates:
                print(f"audioop.{function:<9} {rates[function]:.3e} samples/s")
        return 0 if audioop else 2

    benchmarks = load_benchmarks(args.compare)
    print_codec_table(benchmarks, rates)
    print()
    print_resampling_table(benchmarks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
