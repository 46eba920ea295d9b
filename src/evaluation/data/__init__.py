"""Reference tables shipped with the package (the 98 municipalities)."""
