"""``courtroom verify RECORDING_DIR``: check a recording's hash chain; prints OK or the first break."""

from __future__ import annotations

import argparse
import string

MIN_HEAD_DIGITS = 16  # a prefix this long still tells a cut-off tail apart (64 bits of the hash)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify a hearing recording's segments against its hash-chained manifest")
    p.add_argument("recording_dir", help="directory holding manifest.jsonl and segments/")
    p.add_argument("--head", default=None, type=head_digits,
                   help=f"expected chain head (from the dossier, or at least its first {MIN_HEAD_DIGITS} hex "
                        "digits) to detect a cut-off tail")
    p.set_defaults(func=run)


def head_digits(text: str) -> str:
    """A chain head given back on the command line (a recording's or the audit log's): a prefix of at least
    MIN_HEAD_DIGITS hex digits, any case."""
    head = text.strip().lower()
    if len(head) < MIN_HEAD_DIGITS or not set(head) <= set(string.hexdigits.lower()):
        raise argparse.ArgumentTypeError(f"expected at least {MIN_HEAD_DIGITS} hex digits of the chain head")
    return head


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from capture.verify import verify_recording

    if not Path(args.recording_dir).is_dir():  # a mistyped path read "BROKEN (corrupt)", as tampering does
        print(f"courtroom verify: no recording directory at {args.recording_dir}", file=sys.stderr)
        return 2
    result = verify_recording(args.recording_dir, expected_head=args.head)
    print(result)
    return 0 if result.ok else 1
