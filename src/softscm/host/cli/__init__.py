"""scmctl: the host command line for a softscm module."""
