"""Media: probing, playback decisions, FFmpeg arguments and HLS playlist maths."""
