"""Container tests: the `built_image` fixture (tests/conftest.py) builds the image with a real Docker engine."""
