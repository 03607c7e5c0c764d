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


elbv2.make_arn_for_load_balancer = _make_arn_for_load_balancer
elbv2.ELBv2Backend.create_load_balancer = _create_load_balancer

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
