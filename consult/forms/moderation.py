"""Forms for the moderation console."""
