"""Local stand-ins for the services the collection talks to (the GKE API emulator lives in ``gke``)."""
