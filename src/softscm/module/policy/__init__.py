"""Policies: what the module does about tamper, temperature, battery, power and boot faults."""
