"""Container assets: the health check the Dockerfile copies into the image."""
