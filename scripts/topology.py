#!/usr/bin/env python3
"""Seed a load-balancer topology into the local AWS emulator (moto), for tests and the demo.

    topology.py --endpoint URL [--region R] create < spec.json   -> prints what it made, as JSON
    topology.py --endpoint URL [--region R] instance ID stopped|running
    topology.py --endpoint URL [--region R] alarm-event NAME STATE REASON
        SetAlarmState, then print the Lambda event SNS would deliver for that state change,
        in the exact shape CloudWatch publishes (see tests/fixtures/)
    topology.py --endpoint URL [--region R] function-env NAME   -> the function's env, as JSON
    topology.py --endpoint URL [--region R] set-states STATE REASON NAME...
        SetAlarmState on each alarm named (no event: for tests that only read states)

spec.json:
  {"instances": 2,
   "target_groups": [{"name": "web-tg", "protocol": "HTTP", "port": 80, "targets": [0, 1]}],
   "load_balancers": [{"name": "web-alb", "type": "application",
                       "listeners": [{"port": 80, "protocol": "HTTP", "default": ["web-tg"],
                                      "rules": [{"path": "/api/*", "forward": ["api-tg"]}]}]}]}

`"instance_zones": ["a", "b", …]` places each instance in the region's zone a or b (both are the
load balancers' zones); without it every instance is in zone a. `targets` index into the instances; a `forward` of several groups becomes a weighted forward.
A target group may say `"target_type": "lambda"` (no targets; health checks off by default, as on
AWS), `"health_check_enabled": true|false`, `"health_check": {"interval": S, "unhealthy": N}` and
`"tags": {"k": "v"}`.
A load balancer may be `"type": "network"` (TCP listeners) or `"gateway"` (listeners without
protocol or port) and carry `"tags": {"k": "v"}`. `"classic_load_balancers": [{"name": …,
"instances": [0], "tags": {…}, "health_check": {"interval": S, "unhealthy": N}}]` makes Classic
ELBs (HTTP:80, both AZs); their `load_balancers` entry is their DNS name.
Runs on the venv that scripts/emulator.sh makes (boto3 comes with moto).
"""
import argparse
import json
import sys

import boto3


def client(args, service):
    return boto3.client(
        service,
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def forward(arns_by_name, names):
    if len(names) == 1:
        return [{"Type": "forward", "TargetGroupArn": arns_by_name[names[0]]}]
    groups = [{"TargetGroupArn": arns_by_name[n], "Weight": 1} for n in names]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def create(args, spec):
    ec2, elb = client(args, "ec2"), client(args, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{args.region}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    instances = []
    # `instance_zones`: the zone ("a" or "b") of each instance; without it, all in zone a.
    zones = spec.get("instance_zones") or ["a"] * spec.get("instances", 0)
    for zone in zones:
        reservation = ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets["ab".index(zone)],
        )
        instances.append(reservation["Instances"][0]["InstanceId"])

    tgs = {}
    for tg in spec.get("target_groups", []):
        if tg.get("target_type") == "lambda":
            # Lambda target groups take no protocol, port or VPC, and have health checks
            # disabled unless enabled (as on AWS).
            params = {"Name": tg["name"], "TargetType": "lambda"}
        else:
            params = {
                "Name": tg["name"],
                "Protocol": tg.get("protocol", "HTTP"),
                "Port": tg.get("port", 80),
                "VpcId": vpc,
                "TargetType": "instance",
            }
        if "health_check_enabled" in tg:
            params["HealthCheckEnabled"] = tg["health_check_enabled"]
        if tg.get("tags"):
            params["Tags"] = [{"Key": k, "Value": v} for k, v in tg["tags"].items()]
        check = tg.get("health_check", {})
        if "interval" in check:
            params["HealthCheckIntervalSeconds"] = check["interval"]
        if "unhealthy" in check:
            params["UnhealthyThresholdCount"] = check["unhealthy"]
        arn = elb.create_target_group(**params)["TargetGroups"][0]["TargetGroupArn"]
        tgs[tg["name"]] = arn
        targets = [{"Id": instances[i], "Port": tg.get("port", 80)} for i in tg.get("targets", [])]
        if targets:
            elb.register_targets(TargetGroupArn=arn, Targets=targets)

    lbs = {}
    for lb in spec.get("load_balancers", []):
        kind = lb.get("type", "application")
        params = {"Name": lb["name"], "Subnets": subnets, "Type": kind}
        if kind != "gateway":
            params["Scheme"] = "internal"
        if lb.get("tags"):
            params["Tags"] = [{"Key": k, "Value": v} for k, v in lb["tags"].items()]
        arn = elb.create_load_balancer(**params)["LoadBalancers"][0]["LoadBalancerArn"]
        lbs[lb["name"]] = arn
        for listener in lb.get("listeners", []):
            lparams = {"LoadBalancerArn": arn, "DefaultActions": forward(tgs, listener["default"])}
            if kind != "gateway":  # GWLB listeners take neither protocol nor port
                default_protocol = "TCP" if kind == "network" else "HTTP"
                lparams["Protocol"] = listener.get("protocol", default_protocol)
                lparams["Port"] = listener["port"]
            larn = elb.create_listener(**lparams)["Listeners"][0]["ListenerArn"]
            for priority, rule in enumerate(listener.get("rules", []), start=1):
                elb.create_rule(
                    ListenerArn=larn,
                    Priority=priority,
                    Conditions=[{"Field": "path-pattern", "Values": [rule["path"]]}],
                    Actions=forward(tgs, rule["forward"]),
                )

    classic = client(args, "elb") if spec.get("classic_load_balancers") else None
    for lb in spec.get("classic_load_balancers", []):
        port = lb.get("port", 80)
        created = classic.create_load_balancer(
            LoadBalancerName=lb["name"],
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": port, "InstancePort": port}],
            AvailabilityZones=[f"{args.region}a", f"{args.region}b"],
        )
        check = lb.get("health_check", {})
        classic.configure_health_check(
            LoadBalancerName=lb["name"],
            HealthCheck={
                "Target": f"HTTP:{port}/",
                "Interval": check.get("interval", 30),
                "Timeout": 5,
                "UnhealthyThreshold": check.get("unhealthy", 2),
                "HealthyThreshold": 10,
            },
        )
        if lb.get("instances"):
            classic.register_instances_with_load_balancer(
                LoadBalancerName=lb["name"],
                Instances=[{"InstanceId": instances[i]} for i in lb["instances"]],
            )
        if lb.get("tags"):
            classic.add_tags(
                LoadBalancerNames=[lb["name"]],
                Tags=[{"Key": k, "Value": v} for k, v in lb["tags"].items()],
            )
        lbs[lb["name"]] = created["DNSName"]
    return {
        "vpc_id": vpc,
        "subnets": subnets,
        "instances": instances,
        "target_groups": tgs,
        "load_balancers": lbs,
    }


REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def cw_time(dt):
    """CloudWatch's timestamp format in alarm messages: 2026-11-20T03:15:42.118+0000."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def trigger(alarm):
    """The `Trigger` of CloudWatch's alarm message: the metric, or for a metric-math alarm its
    `Metrics` (shaped like tests/fixtures/sns-alarm-metric-math.json)."""
    common = {
        "Period": alarm.get("Period", 60),
        "EvaluationPeriods": alarm["EvaluationPeriods"],
        "DatapointsToAlarm": alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]),
        "ComparisonOperator": alarm["ComparisonOperator"],
        "Threshold": alarm["Threshold"],
        "TreatMissingData": alarm.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": "",
    }
    if alarm.get("Metrics"):
        metrics = []
        for q in alarm["Metrics"]:
            if "Expression" in q:
                m = {"Expression": q["Expression"], "Id": q["Id"]}
                if "Label" in q:
                    m["Label"] = q["Label"]
            else:
                stat = q["MetricStat"]
                m = {
                    "Id": q["Id"],
                    "MetricStat": {
                        "Metric": {
                            "Dimensions": [
                                {"value": d["Value"], "name": d["Name"]}
                                for d in stat["Metric"].get("Dimensions", [])
                            ],
                            "MetricName": stat["Metric"]["MetricName"],
                            "Namespace": stat["Metric"]["Namespace"],
                        },
                        "Period": stat["Period"],
                        "Stat": stat["Stat"],
                    },
                }
            m["ReturnData"] = q.get("ReturnData", True)
            metrics.append(m)
        common["Period"] = next(
            (q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q), 60
        )
        return {**common, "Metrics": metrics}
    return {
        "MetricName": alarm["MetricName"],
        "Namespace": alarm["Namespace"],
        "StatisticType": "Statistic",
        "Statistic": alarm["Statistic"].upper(),
        "Unit": None,
        "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in alarm["Dimensions"]],
        **common,
    }


def alarm_event(args, name, state, reason):
    import datetime
    import uuid

    cw = client(args, "cloudwatch")
    before = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    account = alarm["AlarmArn"].split(":")[4]
    now = datetime.datetime.now(datetime.timezone.utc)
    region_name = REGION_NAMES.get(args.region, args.region)
    message = {
        "AlarmName": name,
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cw_time(alarm["AlarmConfigurationUpdatedTimestamp"]),
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": cw_time(now),
        "Region": region_name,
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": before["StateValue"],
        "OKActions": alarm.get("OKActions", []),
        "AlarmActions": alarm.get("AlarmActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", []),
        "Trigger": trigger(alarm),
    }
    topic = (alarm.get("AlarmActions") or alarm.get("OKActions") or ["arn:aws:sns:::none"])[0]
    sub = f"{topic}:{uuid.uuid4()}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": sub,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic,
                    "Subject": f'{state}: "{name}" in {region_name}'[:100],
                    "Message": json.dumps(message),
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": f"https://sns.{args.region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                    "UnsubscribeUrl": f"https://sns.{args.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub}",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", default="us-east-1")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("create")
    inst = sub.add_parser("instance")
    inst.add_argument("id")
    inst.add_argument("state", choices=["stopped", "running"])
    ev = sub.add_parser("alarm-event")
    ev.add_argument("name")
    ev.add_argument("state", choices=["OK", "ALARM", "INSUFFICIENT_DATA"])
    ev.add_argument("reason")
    fenv = sub.add_parser("function-env")
    fenv.add_argument("name")
    many = sub.add_parser("set-states")
    many.add_argument("state", choices=["OK", "ALARM", "INSUFFICIENT_DATA"])
    many.add_argument("reason")
    many.add_argument("names", nargs="+")
    args = p.parse_args()
    if args.cmd == "create":
        json.dump(create(args, json.load(sys.stdin)), sys.stdout)
        print()
    elif args.cmd == "alarm-event":
        json.dump(alarm_event(args, args.name, args.state, args.reason), sys.stdout)
        print()
    elif args.cmd == "set-states":
        cw = client(args, "cloudwatch")
        for name in args.names:
            cw.set_alarm_state(AlarmName=name, StateValue=args.state, StateReason=args.reason)
    elif args.cmd == "function-env":
        cfg = client(args, "lambda").get_function_configuration(FunctionName=args.name)
        json.dump(cfg.get("Environment", {}).get("Variables", {}), sys.stdout)
        print()
    else:
        ec2 = client(args, "ec2")
        if args.state == "stopped":
            ec2.stop_instances(InstanceIds=[args.id])
        else:
            ec2.start_instances(InstanceIds=[args.id])


if __name__ == "__main__":
    main()
