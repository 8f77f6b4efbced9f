import sys
from pathlib import Path

# Shared helpers of the API tests (tiny generated evidence files) are imported by module name.
sys.path.insert(0, str(Path(__file__).parent))
