"""What she can do beyond talking: each capability (mail, calendar, and every later one)
is a skill that plugs in through one contract (``contract.py``), found by entry points."""
