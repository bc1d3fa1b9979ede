"""Deployment declarations: schedules in Africa/Johannesburg time, one deployment per tenant."""
