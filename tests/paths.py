"""Where the tests find the repository and its fixtures, wherever a test file sits in the tree."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
