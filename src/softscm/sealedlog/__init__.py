"""The sealed audit log's format, shared by the module (which writes it) and any verifier (which
reads a live export or a copy of a failed module's state directory): records, the offline reader
and verification. It holds no secrets: verifying needs the public checkpoint key, and checking
every MAC needs the initial MAC key the owner was given when the log was created."""
