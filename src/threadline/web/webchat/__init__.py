"""The web chat edge: visitor sessions, messages, history, the visitor stream, the widget."""
