"""``courtroom models list``: the speech models available offline."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="speech recognition models available offline")
    msub = p.add_subparsers(dest="models_command", required=True)
    lst = msub.add_parser("list", help="name, languages, size, path and status of every model")
    lst.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from transcribe.model_store import ModelStore

    settings = get_settings()
    store = ModelStore(settings.cache_dir, settings.transcribe.models_dir, settings.transcribe.model)
    rows = [("NAME", "LANGUAGES", "SIZE", "STATUS", "PATH")]
    for m in store.list_models():
        name = m.name + (" (default)" if m.name == store.default else "")
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else "-"
        rows.append((name, m.languages, size, m.status, str(m.path or "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return 0
