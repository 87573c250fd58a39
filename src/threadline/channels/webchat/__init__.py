"""The web chat channel: Threadline's own widget; the visitor's browser is the provider."""
