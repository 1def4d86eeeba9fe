"""The inference side of the container: a Falcon app under waitress."""
