"""The machine's audio input devices, and which courtroom profiles each can serve."""

from __future__ import annotations

from hardware.errors import HardwareError
from hardware.types import CourtroomProfile, InputDevice


def list_input_devices() -> list[InputDevice]:
    """Every PortAudio device with at least one input channel."""
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except Exception as exc:  # OSError (no PortAudio library), PortAudioError
        raise HardwareError(f"cannot query audio devices (is PortAudio installed?): {exc}") from exc
    return [
        InputDevice(i, d["name"], apis[d["hostapi"]]["name"], d["max_input_channels"],
                    d["default_samplerate"], i == default_in)
        for i, d in enumerate(devices)
        if d["max_input_channels"] > 0
    ]


def device_fits(device: InputDevice, profile: CourtroomProfile) -> bool:
    """A device fits a profile when it has the channels the profile's map needs.

    A profile bound to a named or numbered device fits only that device; "default" fits the default.
    """
    if device.channels < profile.channel_count:
        return False
    wanted = profile.source.device
    if profile.source.kind != "device" or wanted is None:
        return True  # file/stream profiles could be pointed at any device with enough channels
    if isinstance(wanted, int):
        return wanted == device.index
    if wanted == "default":
        return device.is_default or device.name == "default"
    return wanted.lower() in device.name.lower()
