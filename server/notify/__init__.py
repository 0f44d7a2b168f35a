"""Notification channels. Each is a transport; errors share one hierarchy."""
