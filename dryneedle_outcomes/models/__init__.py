"""Models of pain across sessions: engines and the trajectory analysis built on them."""
