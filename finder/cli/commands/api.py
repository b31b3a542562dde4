from finder.errors import FinderError

HELP = "Serve the directory as a read-only Open Referral UK API (HSDS 3.0, UK profile)."
DEFAULT_PORT = 8502  # beside the app's 8501


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--root-path",
        default="",
        help="the path prefix a proxy serves the API under and strips, e.g. /oruk",
    )


def run(args) -> int:
    import uvicorn

    from finder.oruk.api import create_app

    if not 0 < args.port < 65536:
        raise FinderError(f"--port must be from 1 to 65535, not {args.port}")
    if args.root_path and (not args.root_path.startswith("/") or args.root_path.endswith("/")):
        raise FinderError("--root-path starts with / and does not end with one, e.g. /oruk")
    # access_log=False: no line per request, so nothing anyone searched for is ever written down.
    uvicorn.run(
        create_app(),
        root_path=args.root_path,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        proxy_headers=True,
    )
    return 0
