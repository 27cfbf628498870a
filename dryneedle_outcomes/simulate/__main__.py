"""``python -m dryneedle_outcomes.simulate [DIR]``: write the sample data folder."""

from .sample import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
