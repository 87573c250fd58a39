"""The public help centre: published knowledge-base articles, without sign-in."""
