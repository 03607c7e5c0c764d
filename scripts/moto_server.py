"""moto's server, with the harness's corrections where moto departs from AWS in a way that
would hide a product bug. Run by testkit (emulator.rs) and scripts/emulator.sh instead of the
`moto_server` entry point; takes the same arguments.

Corrections:

- ELBv2 load balancer ARNs. moto names every load balancer `loadbalancer/app/NAME/ID`, whatever
  its type. AWS names Network Load Balancers `loadbalancer/net/NAME/ID` and Gateway Load
  Balancers `loadbalancer/gwy/NAME/ID`, and their CloudWatch `LoadBalancer` dimension is that
  suffix (`net/NAME/ID`, `gwy/NAME/ID`):
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
  https://docs.aws.amazon.com/elasticloadbalancing/latest/gateway/cloudwatch-metrics.html
  With moto's ARNs, code that put an NLB's alarm on an `app/` dimension (or in the
  `AWS/ApplicationELB` namespace) would pass every test. Listener ARNs follow
  (`listener/net/…`), as on AWS.
- SNS filter policies with `"$or"` in the message-body scope. AWS reads `{"$or": [A, B], …rest}`
  as (A and rest) or (B and rest), in either scope:
  https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html#or-operator
  moto handles `$or` for message attributes only; on a message body it raises, and Publish
  answers 500. The correction expands `$or` into alternatives before moto's own checks (an
  alternative naming a property the body lacks is one that does not match).
"""
import inspect
import sys
import threading

import moto.elbv2.models as elbv2

_creating = threading.local()
_PREFIX = {"network": "net", "gateway": "gwy"}

_make_arn = elbv2.make_arn_for_load_balancer


def _make_arn_for_load_balancer(*args, **kwargs):
    arn = _make_arn(*args, **kwargs)
    prefix = _PREFIX.get(getattr(_creating, "kind", None))
    if prefix:
        arn = arn.replace(":loadbalancer/app/", f":loadbalancer/{prefix}/", 1)
    return arn


_create = elbv2.ELBv2Backend.create_load_balancer
_signature = inspect.signature(_create)


def _create_load_balancer(self, *args, **kwargs):
    bound = _signature.bind(self, *args, **kwargs)
    _creating.kind = bound.arguments.get("loadbalancer_type")
    try:
        return _create(self, *args, **kwargs)
    finally:
        _creating.kind = None


import moto.sns.utils as sns_utils

_Matcher = sns_utils.FilterPolicyMatcher
_compute_body_checks = _Matcher._compute_body_checks


def _compute_body_checks_with_or(self, filter_policy, message_body):
    alternatives = filter_policy.get("$or") if isinstance(filter_policy, dict) else None
    if not (isinstance(alternatives, list) and alternatives
            and all(isinstance(a, dict) for a in alternatives)):
        return _compute_body_checks(self, filter_policy, message_body)
    rest = {k: v for k, v in filter_policy.items() if k != "$or"}
    checks = []
    for alternative in alternatives:
        try:
            checks.append(self._compute_body_checks({**rest, **alternative}, message_body))
        except _Matcher.CheckException:
            checks.append((any, ()))
    return (any, tuple(checks))


_Matcher._compute_body_checks = _compute_body_checks_with_or

elbv2.make_arn_for_load_balancer = _make_arn_for_load_balancer
elbv2.ELBv2Backend.create_load_balancer = _create_load_balancer

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
