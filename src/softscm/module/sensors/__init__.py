"""Sensors: the hardware abstraction (simulated and Linux back ends), RTC, tap detection, LED."""
