"""Step-up for views (R-SEC-04). The helpers live in `mchis.accounts.stepup`; this import path stays valid."""

from .stepup import handles_step_up, page_redirect, step_up_url

__all__ = ["handles_step_up", "page_redirect", "step_up_url"]
