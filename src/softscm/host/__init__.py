"""The host side: clients, the CLI and host tooling. Never holds a private key."""
