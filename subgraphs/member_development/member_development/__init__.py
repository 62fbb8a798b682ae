"""Member development: yearly admission plans, candidates through their stages, achievement."""
