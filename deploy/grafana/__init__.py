"""Grafana dashboards as code (build.py) and their provisioning."""
