"""Synthetic demo data (dữ liệu mô phỏng): `manage.py generate_demo`.

- `people.py`  pure generator (families, names, personal IDs per R-CH-08, labelled errors); one
  `random.Random(seed)` drives everything, so a seed reproduces the same rows.
- `names.py`, `regions.py`  name stocks by tradition, ethnic mix and village naming per 2025 province.
- `tree.py`  the reporting-unit tree and villages of a province, built once through unit/village services.
- `services.py`  `demo_generate` (one transaction, COPY/executemany in chunks, one audit event) and
  `demo_accounts_ensure` (one account per role).
- `bench/generate_demo.py`  children/second on PostgreSQL against the 1M-in-5-minutes target.
"""
