"""yaffw: the library shared by the api, transcode, scan and lease-reaper functions."""

__version__ = "0.1.0"
