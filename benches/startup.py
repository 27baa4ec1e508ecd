"""The release binary's cold start (`kiln --version`, median of 51 runs) and size.

Run through scripts/bench.
"""

import argparse
import os
import statistics
import subprocess
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    args = parser.parse_args()
    samples = []
    for _ in range(51):
        started = time.perf_counter()
        subprocess.run([args.kiln, "--version"], check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    size = os.path.getsize(args.kiln)
    print(f"kiln --version: median {statistics.median(samples) * 1000:.1f}ms over 51 runs")
    print(f"binary size: {size / 1e6:.1f} MB (release, debug info stripped)")


if __name__ == "__main__":
    main()
