"""Access: OAuth2 password flow, signed JWTs, and the permission policy."""
