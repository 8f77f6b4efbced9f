"""``courtroom devices``: the machine's input devices, channel counts, and the profiles that fit."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list audio input devices and which courtroom profiles fit them")
    p.add_argument("--profile", action="append", default=None,
                   help="profile name or TOML path to check (default: every profile, the bundled ones and "
                        "those in COURTROOM_PROFILES_DIR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.profiles import load_given_profile, profile_names
    from hardware.devices import device_fits, list_input_devices
    from hardware.errors import HardwareError

    own = get_settings().profiles_dir  # the court's own profiles, which its courtrooms may name
    profiles, broken = [], 0
    for name in args.profile or profile_names(own):
        try:
            profiles.append(load_given_profile(name, own))
        except HardwareError as exc:  # one broken file hid every device and every other profile's check
            print(f"error: {exc}")
            broken += 1
    try:
        devices = list_input_devices()
    except HardwareError as exc:
        print(f"error: {exc}")
        return 2
    if not devices:
        print("no audio input devices found")
    for d in devices:
        fits = [p.room_id for p in profiles if device_fits(d, p)]
        mark = "*" if d.is_default else " "
        print(f"{mark}{d.index:3d}  {d.name}  [{d.host_api}]  {d.channels} in  {d.default_sample_rate:.0f} Hz"
              f"  fits: {', '.join(fits) if fits else '-'}")
    print()
    for p in profiles:
        where = p.source.device if p.source.kind == "device" else p.source.url
        print(f"profile {p.room_id}: {p.channel_count} channels, {p.source.kind} {where}")
    return 2 if broken else 0  # listed all the same, but a broken profile is still a failure
