"""`kiln prune --apply` on 2,000 images with snapshots, against aws-amicleaner on the
same kind of data, in the same local emulator. Prints wall time, images per second
and API calls (counted from the emulator's request log, the same way for both).

Run through scripts/bench, which builds kiln, installs the peers and picks the python
that has the emulator. One run each: a prune deletes what it measures.
"""

import argparse
import os
import subprocess
import sys
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resolve import bench_emulator  # noqa: E402


def seed(ec2, instance: str, app: str, count: int) -> list:
    images = []
    for n in range(count):
        image = ec2.create_image(InstanceId=instance, Name=f"{app}-{n:05d}")["ImageId"]
        images.append(image)
    for start in range(0, count, 500):
        chunk = images[start:start + 500]
        ec2.create_tags(Resources=chunk, Tags=[{"Key": "kiln:app", "Value": app}, {"Key": "kiln:role", "Value": "app"}])
    return images


def requests_so_far(log: str) -> int:
    with open(log) as f:
        return sum(1 for line in f if '"POST ' in line or '"GET ' in line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--amicleaner", default=None)
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()

    log = f"/tmp/kiln-bench-prune-{os.getpid()}.log"
    emulator, endpoint, env = bench_emulator(log=log)
    os.environ.update(env)
    ec2 = boto3.client("ec2")
    source = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    # The seeding instance keeps the source image; no seeded image is referenced.
    results = {}
    for peer in ["kiln", "aws-amicleaner"]:
        if peer == "aws-amicleaner" and not args.amicleaner:
            continue
        app = f"bench-{peer}"
        started = time.perf_counter()
        seed(ec2, instance, app, args.images)
        print(f"seeded {args.images} images with snapshots for {peer} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        before = requests_so_far(log)
        if peer == "kiln":
            command = [args.kiln, "--app", app, "prune", "--apply", "--keep", "5", "--min-age", "0s", "--keep-versions", "0"]
        else:
            command = [
                args.amicleaner, "--mapping-key", "tags", "--mapping-values", "kiln:app",
                "--keep-previous", "5", "--ami-min-days", "0", "--full-report", "-f",
            ]
        started = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        time.sleep(0.5)
        calls = requests_so_far(log) - before
        left = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:kiln:app", "Values": [app]}])["Images"]
        if out.returncode != 0 or len(left) != 5:
            print(f"{peer} did not prune as expected (exit {out.returncode}, {len(left)} images left):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}", file=sys.stderr)
            results[peer] = None
            continue
        deleted = args.images - len(left)
        results[peer] = (wall, calls, deleted)

    print(f"{'prune of ' + str(args.images) + ' images':28} {'wall':>8} {'images/s':>10} {'API calls':>10}")
    for peer, result in results.items():
        if result is None:
            print(f"{peer:28} {'failed':>8}")
            continue
        wall, calls, deleted = result
        print(f"{peer:28} {wall:7.1f}s {deleted / wall:10.1f} {calls:10d}")
    if results.get("kiln") and results.get("aws-amicleaner"):
        print(f"\naws-amicleaner / kiln = {results['aws-amicleaner'][0] / results['kiln'][0]:.1f}x (target >= 5x)")
    print(f"({os.cpu_count()} cores; the emulator's speed bounds both)")
    emulator.terminate()


if __name__ == "__main__":
    main()
