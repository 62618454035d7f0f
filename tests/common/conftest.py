# The PPA fixtures (a filled draft) for the fault tests, which validate a plan.
from tests.ppa.conftest import draft, filled, need_code, plan, service_code  # noqa: F401
