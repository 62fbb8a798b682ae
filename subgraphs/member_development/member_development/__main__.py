"""``python -m member_development serve|demo|sdl``."""

from __future__ import annotations

import argparse
import asyncio

from member_development import demo
from member_development.db import create_tables, make_engine, make_sessionmaker
from member_development.settings import load_settings


async def _load_demo() -> None:
    engine = make_engine(load_settings().database_url)
    await create_tables(engine)
    loaded = await demo.load(make_sessionmaker(engine))
    await engine.dispose()
    print("demo loaded" if loaded else "demo already present")


def main() -> None:
    parser = argparse.ArgumentParser(prog="member-development")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the subgraph (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    commands.add_parser("demo", help="load the Ninh Binh 2023 demo (once)")
    commands.add_parser("sdl", help="print the subgraph's SDL")
    args = parser.parse_args()
    if args.command == "serve":
        import uvicorn

        from member_development.app import create_app

        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    elif args.command == "demo":
        asyncio.run(_load_demo())
    else:
        from member_development.schema import sdl

        print(sdl())


if __name__ == "__main__":
    main()
