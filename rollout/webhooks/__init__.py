"""Webhooks: rollout events posted, signed, to the endpoints a province configured."""
