"""Kamaelia.Apps.Grey: Kamaelia Grey, a greylisting SMTP proxy."""
