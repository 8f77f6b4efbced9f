"""``courtroom verify RECORDING_DIR``: check a recording's hash chain; prints OK or the first break."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify a hearing recording's segments against its hash-chained manifest")
    p.add_argument("recording_dir", help="directory holding manifest.jsonl and segments/")
    p.add_argument("--head", default=None, help="expected chain head (from the dossier) to detect a cut-off tail")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from capture.verify import verify_recording

    result = verify_recording(args.recording_dir)
    if result.ok and args.head and result.chain_head != args.head:
        print(f"BROKEN (removed): chain head {result.chain_head[:16]} is not the expected {args.head[:16]}: "
              "entries were removed from the end")
        return 1
    print(result)
    return 0 if result.ok else 1
