"""The demo court: a case, its participants, users of every role and the ``demo`` courtroom."""
