"""What other apps add to an account's closing and export, without accounts importing them.

`accounts` sits below `swaps` (tests/test_architecture.py): the account services send
these, and `swaps` connects its receivers in its AppConfig.ready().
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with account=, before the account is anonymised. Receivers erase what they keep of
# it (photos, results, saved faces); they must be safe to run twice. Errors propagate.
account_closing = Signal()

# Sent with account= and absolute_url= (a path -> URL function). Each receiver returns a
# dict of export sections, merged into the export.
account_export = Signal()
