"""Speech in and out: recognizers (Vosk, Whisper, PocketSphinx), endpointing, digits, TTS."""
