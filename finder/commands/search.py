from finder.errors import FinderError

HELP = "(being built)"


def add_arguments(parser):
    pass


def run(args) -> int:
    raise FinderError("'build' is not built yet")
