"""Recognition engines behind the `ivr.speech.recognizer.Engine` interface."""
