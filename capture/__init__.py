"""Capture: courtroom audio in, a recording that loses nothing out.

* sources (async iterators of :class:`capture.types.AudioChunk`, samples ``(frames, channels)``):
  :class:`capture.device.DeviceSource` (sounddevice), :class:`capture.ffmpeg_source.FfmpegSource`
  (any ffmpeg input), :class:`capture.replay.ReplaySource` (paced), built by
  :func:`capture.sources.open_source` from a profile;
* :class:`capture.recorder.Recorder`: segmented FLAC (WAV beyond 8 channels) + hash-chained manifest + write-ahead
  journal; resumes after a crash; ``finalize()`` -> :class:`capture.types.FinalizedRecording`;
* :func:`capture.verify.verify_recording` -> :class:`capture.types.VerifyResult`;
* :func:`capture.excerpt.read_excerpt`: a stretch of a recording, also while it is being made (from its
  segment files and the live recorder's memory), as its listening mix;
* :class:`capture.health.ChannelHealth`: level meters and alarms;
* :class:`capture.fanout.FanOut` and :func:`capture.pipeline.run_capture`: the recorder first,
  downstream consumers on bounded queues, failed sources retried with the outage as a gap.

Typical wiring (the API's live pipeline)::

    profile = load_profile("civil-4ch")
    recorder = Recorder(dir, profile.sample_rate, profile.channel_count,
                        RecorderOptions.for_profile(profile, segment_seconds=settings.capture.segment_seconds))
    fanout = FanOut(recorder.write_async, on_event=publish)
    transcriber_feed = fanout.subscribe("transcriber", maxsize=64)
    await run_capture(lambda: open_source(profile, on_event=publish), recorder, fanout=fanout,
                      health=ChannelHealth.for_profile(profile), on_event=publish)
"""
