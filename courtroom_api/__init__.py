"""FastAPI service, CLI and wiring of the courtroom pipeline (capture → transcribe → diarize → dossier)."""
