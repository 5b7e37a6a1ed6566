"""Her music: a character decided from what a piece is about, a melody the model writes in
ABC notation under a grammar, checked with music21, rendered by Debian's tools."""
