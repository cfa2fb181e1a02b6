"""The molecule scenarios' marker."""


def pytest_configure(config):
    config.addinivalue_line("markers", "molecule: runs a molecule scenario (molecule/) against fresh local stand-ins")
