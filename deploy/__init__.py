"""Deployment: the nginx configuration of the scale-out and a one-machine launcher for it (docs/deploy.md)."""
