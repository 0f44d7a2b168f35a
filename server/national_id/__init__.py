"""National sign-in: ID-porten for patients and relatives (OpenID Connect with PAR, PKCE,
private_key_jwt and a checked assurance level), and the national identity number matched by a
keyed hash only."""
