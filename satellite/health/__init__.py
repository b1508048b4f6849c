"""The health door: liveness, readiness, Prometheus metrics, a status JSON and page."""

from satellite.health.checks import Verdict, liveness, readiness, status_document
from satellite.health.heartbeat import start_heartbeat
from satellite.health.server import HealthServer

__all__ = ["HealthServer", "Verdict", "liveness", "readiness", "start_heartbeat",
           "status_document"]
