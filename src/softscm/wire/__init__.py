"""The module/host boundary: numbers, messages, framing and errors shared by both sides."""
