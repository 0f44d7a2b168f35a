"""A FHIR R4 interface for the clinic's record system (EPJ): appointments in, what patients
did back out. Authenticated as a system (OAuth 2.0 client credentials, private_key_jwt at the
token issuer; the access token is a JWT Følge checks itself), authorized through
server/policy.py like every other request. See README.md, "The record system's FHIR interface".
"""
