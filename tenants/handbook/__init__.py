"""The handbook: what the pilot app shows a party member of a tenant."""
