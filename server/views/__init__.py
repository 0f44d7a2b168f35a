"""Blueprints, one per area. Routes are thin: parse, call a service, respond."""
