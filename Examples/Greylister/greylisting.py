#!/usr/bin/env python3
"""
Kamaelia Grey: the greylisting SMTP proxy
=========================================

What it shows: the complete application -- a greylisting SMTP proxy built
from Kamaelia components -- as Kamaelia Grey 1.x shipped it (this script's
name and its configuration file, ``greylist.conf``, are the original ones).

Run it::

    python3 Examples/Greylister/greylisting.py --listen 127.0.0.1 --port 2525

With no configuration file it listens as told, uses an embedded SMTP server
that delivers into ./Maildir, and greylists mail for the domains listed in
``allowed_domains`` (none by default: only 127.0.0.1, an allowed sender, may
send). Send it a message with e.g.
``swaks --server 127.0.0.1:2525 --to someone@example.org``; you should see
the message appear in Maildir/new and a line in greylist.log. Stop it with
Ctrl-C. ``--help`` lists the options; ``--check-config`` checks a
configuration file. Copy greylist.conf.dist (beside this script) to one of
the places listed in Docs/Greylister.md to configure it.
"""

import sys

from Kamaelia.Apps.Grey.Application import main

if __name__ == "__main__":
    sys.exit(main())
