"""What every outbound exchange shares: request signing (detached JWS, Ed25519), the signing keys and their
rotation, the HTTP transport, the delivery engine over the outbox, and the base of the local receivers."""
