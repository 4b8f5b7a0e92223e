"""PostgreSQL for the test suite only (config/settings/test.py): Django's backend with a cheaper flush."""
