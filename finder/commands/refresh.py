from finder.errors import FinderError

HELP = "(being built)"


def add_arguments(parser):
    pass


def run(args) -> int:
    raise FinderError("'refresh' is not built yet")
