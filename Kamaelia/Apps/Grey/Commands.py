"""
Kamaelia.Apps.Grey.Commands: the one-shot commands of kamaelia-grey
===================================================================

What ``kamaelia-grey`` does when it is not asked to serve: ``stats`` (the
greylist at a glance, read from the store) and ``--migrate-store FROM TO``
(copy a greylist between SQLite and PostgreSQL). Each takes the loaded
configuration and returns the program's exit status.

Example Usage
-------------
::

    $ kamaelia-grey --config /etc/greylist.conf stats
    $ kamaelia-grey --config /etc/greylist.conf --migrate-store \\
          /var/lib/kamaelia-grey/greylist.sqlite postgresql://grey@db.example.org/grey

How does it work?
-----------------
``stats(config, out)`` opens the configured store (``greylist_db``, with the
configuration's timings, key mode, privacy and auto-whitelist settings, as
the server would), writes ``StatusPage.statsReport`` to ``out`` and closes
it: 0, or 1 with the reason on stderr if the store cannot be read (an
SQLite file that does not exist is not created: that is an error too).

``migrateStore(config, source, target)`` is ``StoreMigration.runMigration``:
0 when done, 1 on a database error, 2 when refused (different key modes or
privacy settings). Locations are shown with their passwords hidden.
"""

import logging
import os
import sys
import time

from Kamaelia.Apps.Grey import StatusPage, StoreMigration
from Kamaelia.Apps.Grey.Policy import PolicySettings
from Kamaelia.Apps.Grey.Stores import describeLocation, isPostgresLocation

_log = logging.getLogger(__name__)


def stats(config, out=None, clock=time.time):
    """Write the greylist's summary and last 24 hours to ``out``; the exit status."""
    out = out or sys.stdout
    location = config["greylist_db"]
    if not isPostgresLocation(location) and not os.path.exists(location):
        sys.stderr.write("kamaelia-grey: no greylist at %s (greylist_db)\n" % location)
        return 1
    try:
        store = PolicySettings.fromConfig(config).openStore(location)
        try:
            report = StatusPage.statsReport(store, clock())
        finally:
            store.close()
    except Exception as e:
        sys.stderr.write("kamaelia-grey: cannot read the greylist %s: %s: %s\n" % (
            describeLocation(location), type(e).__name__, e))
        return 1
    out.write(report)
    return 0


def migrateStore(config, source, target):
    """Copy the greylist at ``source`` into ``target``; the exit status."""
    return StoreMigration.runMigration(source, target, config)
