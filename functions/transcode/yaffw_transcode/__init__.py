"""The transcode worker: takes jobs from queue:transcode, runs FFmpeg, serves HLS internally."""
