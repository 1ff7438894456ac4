"""One construct per concern; `stack.TollgateStack` wires them together."""
