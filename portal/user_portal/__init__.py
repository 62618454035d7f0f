"""The user portal (persons, carers, legal representatives), mounted under /mon-espace/."""
