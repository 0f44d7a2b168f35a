"""Real-browser tests: the app served by a live server, driven in headless Chromium."""
