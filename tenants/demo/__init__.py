"""The Ninh Binh demo province: deterministic synthetic data shaped by the pilot's facts."""
