"""Small exact and score-based statistics shared by the tables (intervals, tests)."""
