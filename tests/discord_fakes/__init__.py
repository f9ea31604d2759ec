"""Discord without a network: real discord.py objects over a recording fake transport.

* :mod:`.transport`: Discord's side of the wire, the fake REST API and the fake gateway
  (the only place that touches discord.py internals);
* :mod:`.factories`: gateway and REST payloads for one fake guild, with protocol numbers
  from discord.py's enums;
* :mod:`.harness`: a running bot on the fake, driven as members would;
* :mod:`.services`: small fakes of factdesk's core and sample core objects.
"""
