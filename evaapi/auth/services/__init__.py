"""Writes of the auth package, one module per concern: tenants, api_keys, login, principals
(who a request's credentials prove) and audit. Import the function from its module."""
