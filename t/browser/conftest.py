"""The browser tests reuse the integration tests' fixtures (PostgreSQL,
nginx, tenants); they run on their own (`make browser`), as the two
conftest.py files cannot share one pytest run."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("payout_integration_conftest",
                                               _path)
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)

pg = _conftest.pg
nginx_factory = _conftest.nginx_factory
tenant_factory = _conftest.tenant_factory
tenant = _conftest.tenant
http = _conftest.http
ROOT = _conftest.ROOT
