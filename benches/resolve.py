"""`kiln resolve` against `aws ssm get-parameter` and a raw HTTP request (curl), all
asking the same local emulator for the same registry entry. Prints medians and ratios.

Run through scripts/bench, which builds kiln, installs the peers and picks the python
that has the emulator.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(port: int, log: str | None = None) -> subprocess.Popen:
    launcher = os.path.join(ROOT, "tests", "emulator", "launcher.py")
    sink = open(log, "w") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, launcher, "--port", str(port), "--parent", str(os.getpid())],
        stdout=sink,
        stderr=sink,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start")


def bench_emulator(log: str | None = None):
    """Starts an emulator (its request log in `log`, if given); returns it, its
    endpoint, and an environment that reaches only it (fake credentials, no instance
    metadata)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port, log)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHECKPOINT_DISABLE": "1",
    }
    return emulator, endpoint, env


def timed(command: list, env: dict, runs: int, expected: str) -> list:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        samples.append(time.perf_counter() - started)
        if out.returncode != 0 or out.stdout.strip() != expected:
            raise SystemExit(f"{command[0]} gave {out.stdout!r} {out.stderr!r}, not {expected}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--aws", required=True)
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()

    emulator, endpoint, env = bench_emulator()
    env["KILN_APP"] = "bench"
    os.environ.update(env)
    ec2 = boto3.client("ec2")
    source = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ami = ec2.create_image(InstanceId=instance, Name="bench")["ImageId"]
    subprocess.run([args.kiln, "publish", "app", ami], env=env, check=True, capture_output=True)
    subprocess.run([args.kiln, "promote", "app", "--to", "production"], env=env, check=True, capture_output=True)

    name = "/kiln/bench/app:production"
    commands = {
        "kiln resolve app:production": [args.kiln, "resolve", "app:production"],
        "aws ssm get-parameter": [
            args.aws, "ssm", "get-parameter", "--name", name,
            "--query", "Parameter.Value", "--output", "text",
        ],
    }
    curl = shutil.which("curl")
    if curl:
        commands["raw HTTP request (curl)"] = [
            curl, "-s", "-X", "POST", endpoint + "/",
            "-H", "Content-Type: application/x-amz-json-1.1",
            "-H", "X-Amz-Target: AmazonSSM.GetParameter",
            "-H", "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=0",
            "-d", json.dumps({"Name": name}),
        ]

    medians = {}
    for label, command in commands.items():
        # curl prints the JSON response; the others print the id.
        if label.startswith("raw"):
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                samples.append(time.perf_counter() - started)
                assert json.loads(out.stdout)["Parameter"]["Value"] == ami
        else:
            timed(command, env, 2, ami)  # warm-up: page cache, Python bytecode
            samples = timed(command, env, args.runs, ami)
        medians[label] = statistics.median(samples)

    kiln = medians["kiln resolve app:production"]
    print(f"{'command':32} {'median':>10}  {'vs kiln':>8}")
    for label, median in medians.items():
        print(f"{label:32} {median * 1000:8.1f}ms  {median / kiln:7.2f}x")
    print(f"\naws ssm get-parameter / kiln resolve = {medians['aws ssm get-parameter'] / kiln:.1f}x (target >= 20x)")
    if "raw HTTP request (curl)" in medians:
        print(f"kiln resolve / raw HTTP request     = {kiln / medians['raw HTTP request (curl)']:.2f}x (target <= 1.5x)")
    print(f"({args.runs} runs each, {os.cpu_count()} cores)")
    emulator.terminate()


if __name__ == "__main__":
    main()
