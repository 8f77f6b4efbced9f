"""Who spoke: seats, roles, participants, diarization of shared microphones.

- ``seats``: bleed-compensated seat attribution and seat occupancy over time.
- ``shared`` (+ ``refine``): pyannote.audio diarization of shared channels, offline.
- ``live``: windowed live labels and the after-hearing revision pass.
- ``voiceprints``: CAM++ voiceprints, naming speakers or "unknown speaker N".
- ``shared_seats``: the occupant of a shared channel's seat among the voices on it.
- ``attribute``: all of it over a whole recording (used by ``courtroom transcribe``).
- ``formats``: pyannote.core Annotation, RTTM, DER/JER.

Heavy imports (torch, pyannote) happen in the modules that need them, never here.
"""
