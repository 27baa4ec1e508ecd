"""kiln's own overhead on a bake: `kiln bake base --force` against the same
`packer build` run by hand, both with the emulator template tests/packer/base.
Overhead = median(kiln wall time) - median(packer wall time). Prints medians.

Run through scripts/bench.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resolve import ROOT, bench_emulator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    emulator, endpoint, env = bench_emulator()
    template = tempfile.mkdtemp(prefix="kiln-bench-bake-")
    for name in ("emulator.pkr.hcl", "base.pkr.hcl"):
        shutil.copy(os.path.join(ROOT, "tests", "packer", name), template)

    def run(command, extra):
        started = time.perf_counter()
        subprocess.run(command, env={**env, **extra}, check=True, capture_output=True)
        return time.perf_counter() - started

    kiln_cmd = [args.kiln, "--app", "benchbake", "bake", "base", "--force", "--template", template]
    packer_cmd = ["packer", "build", "-machine-readable", template]
    run(kiln_cmd, {})  # warm-up: the emulator loads its default images on first use
    kiln_times, packer_times = [], []
    for n in range(args.runs):
        kiln_times.append(run(kiln_cmd, {}))
        packer_times.append(run(packer_cmd, {
            "PKR_VAR_kiln_app": "benchbake",
            "PKR_VAR_kiln_role": "base",
            "PKR_VAR_kiln_region": "us-east-1",
            "PKR_VAR_kiln_ami_name": f"bench-by-hand-{n}-{time.time_ns()}",
            "PKR_VAR_kiln_ec2_endpoint": endpoint,
        }))
    kiln_median = statistics.median(kiln_times)
    packer_median = statistics.median(packer_times)
    print(f"{'command':32} {'median':>10}")
    print(f"{'kiln bake base --force':32} {kiln_median * 1000:8.1f}ms")
    print(f"{'packer build (same template)':32} {packer_median * 1000:8.1f}ms")
    print(f"\nkiln overhead on a bake = {(kiln_median - packer_median) * 1000:.1f} ms (target <= 150 ms)")
    print(f"({args.runs} runs each)")

    # Three regions: the AMI is copied to two more regions (concurrently) and each
    # copy published there, against the same bake in one region.
    three = {"KILN_REGIONS": "us-west-2,eu-west-1"}
    run(kiln_cmd, three)  # warm-up: the other regions' default images
    one_times = [run(kiln_cmd, {}) for _ in range(args.runs)]
    three_times = [run(kiln_cmd, three) for _ in range(args.runs)]
    one, three_median = statistics.median(one_times), statistics.median(three_times)
    print(f"\n{'kiln bake base --force':32} {'median':>10}")
    print(f"{'1 region':32} {one * 1000:8.1f}ms")
    print(f"{'3 regions (2 copies)':32} {three_median * 1000:8.1f}ms")
    print(f"3 regions / 1 region = {three_median / one:.2f}x (target <= 1.3x)")
    emulator.terminate()
    shutil.rmtree(template, ignore_errors=True)


if __name__ == "__main__":
    main()
