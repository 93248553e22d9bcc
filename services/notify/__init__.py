"""Notify: routes escalations to Polres and Kantor Imigrasi, and serves the officer API."""
