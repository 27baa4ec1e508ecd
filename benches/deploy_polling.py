"""API calls per poll of a rolling `kiln deploy` for a group of 4 and of 400
instances, counted from kiln's own call log (RUST_LOG=kiln::aws::calls=debug).
A poll is one snapshot of the group: DescribeAutoScalingGroups plus one
DescribeTargetHealth per target group, whatever the number of instances.

Run through scripts/bench.
"""

import argparse
import collections
import os
import subprocess
import sys
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resolve import bench_emulator  # noqa: E402


def group(ec2, elb, asg, name: str, image: str, size: int) -> None:
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    template = ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    target_group = elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
        MinSize=size, MaxSize=size * 2, DesiredCapacity=size,
        VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[target_group],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    args = parser.parse_args()
    emulator, _, env = bench_emulator()
    os.environ.update(env)
    ec2, elb, asg = boto3.client("ec2"), boto3.client("elbv2"), boto3.client("autoscaling")
    source = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    print(f"{'group':>6} {'polls':>6} {'calls/poll':>11} {'deploy wall':>12}")
    per_poll = {}
    for size in (4, 400):
        app = f"poll{size}"
        old = ec2.create_image(InstanceId=instance, Name=f"{app}-old")["ImageId"]
        new = ec2.create_image(InstanceId=instance, Name=f"{app}-new")["ImageId"]
        group(ec2, elb, asg, app, old, size)
        run_env = dict(env, KILN_APP=app)
        subprocess.run([args.kiln, "publish", "app", new], env=run_env, check=True, capture_output=True)
        subprocess.run([args.kiln, "promote", "app", "--to", "tested"], env=run_env, check=True, capture_output=True)
        started = time.perf_counter()
        out = subprocess.run(
            [args.kiln, "deploy", "--asg", app, "--batch-size", "25%", "--min-healthy", "50%", "--timeout", "30m"],
            env=dict(run_env, RUST_LOG="kiln::aws::calls=debug"), capture_output=True, text=True,
        )
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise SystemExit(f"deploy of {size} failed: {out.stderr[-2000:]}")
        calls = collections.Counter(
            line.split("aws call ", 1)[1].strip() for line in out.stderr.splitlines() if "aws call " in line
        )
        polls = calls["elasticloadbalancing:DescribeTargetHealth"]
        snapshot_calls = calls["autoscaling:DescribeAutoScalingGroups"] + polls
        per_poll[size] = snapshot_calls / polls
        print(f"{size:>6} {polls:>6} {per_poll[size]:>11.2f} {wall:>11.1f}s")
    print(f"\ncalls per poll, 400 vs 4 instances: {per_poll[400] / per_poll[4]:.2f}x (target 1.00x)")
    emulator.terminate()


if __name__ == "__main__":
    main()
