"""The application layer: the one place that assembles factdesk's parts from settings."""
