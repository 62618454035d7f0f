"""Meeting booking between professionals and appointments proposed to persons."""
