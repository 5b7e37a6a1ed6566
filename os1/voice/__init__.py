"""How she hears and speaks: audio frames through small processors (see pipeline.py).

Heavy engines (faster-whisper, Piper, PortAudio) are imported only where used, behind a
guard that names the ``os1[voice]`` extra, so text-only use never pays for them.
"""
