"""Samooh's local services, one module per service; `scripts/services.py` is the command line.

* `common` -- constants, errors, progress output, locks, processes and ports shared by all;
* `profile` -- where a profile (run / test[-instance]) keeps data, pid files and ports, and
  how a service process is spawned;
* `mongo` (SecantusDB), `kafka`, `redis`, `smtp` -- each service's install, URL, start and
  readiness probe;
* `registry` -- the tables that map a service name to those functions, and which URLs come
  from the environment;
* `commands` -- install, up, down, status and env.
"""
