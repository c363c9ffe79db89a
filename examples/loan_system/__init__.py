"""A small loan system of its own, with `arrears` embedded the way a lender would do it.

* `models`: the lender's tables (borrowers, loans, repayments, the SMS outbox)
  in the lender's own SQLite file, through SQLAlchemy 2.
* `integration`: the integration layer: overdue loans open cases, repayments
  are posted as payments, and an SMS adapter writes to the lender's outbox.
* `scheduler`: the daily entry point a cron job calls.
* `demo`: seeds twelve loans and runs thirty days.

Run it from the repository root, as a package::

    python -m examples.loan_system.demo
"""
