"""Deployment assets: Grafana dashboards as code, Prometheus rules, Kubernetes and Compose."""
