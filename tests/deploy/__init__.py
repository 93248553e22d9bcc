"""Tests of deploy/, docker-compose.yml, the Dockerfile and the metrics catalogue."""
