"""Gunicorn in production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value comes from the environment (or `.env`, read by config/env.py as
the Django settings read it), so one file serves every host.
"""

import multiprocessing
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))  # so `config.*` imports whatever directory gunicorn starts in

from config.env import env_load  # noqa: E402
from config.logging import logging_config  # noqa: E402

env = env_load()

wsgi_app = "config.wsgi:application"
chdir = str(BASE_DIR)
bind = [f"{env.str('HOST', default='0.0.0.0')}:{env.int('PORT', default=8000)}"]

# Threaded workers: each process serves WEB_THREADS requests at once, so
# requests waiting on Stripe or a slow database hold a thread each, while the
# catalog and /healthz keep being answered by the others. The usual
# 2 x cores + 1 processes keep the CPUs busy. Each thread keeps its own
# database connection: processes x threads connections at most.
workers = int(env.str("WEB_CONCURRENCY", default="") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = env.int("WEB_THREADS", default=4)
# A worker whose main loop has not reported for this long is killed and
# restarted (threads still serving keep it reporting); longer than the worst
# Stripe call (STRIPE_TIMEOUT_SECONDS x retries) all the same.
timeout = env.int("GUNICORN_TIMEOUT", default=60)
# On SIGTERM (a deploy), finish the requests under way before exiting.
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
keepalive = 5
# Recycling workers is a memory safeguard, not a routine: each restart is a
# full Django start-up (~0.5 s of CPU), and a worker's RSS grows only a few
# MB over tens of thousands of requests (`make bench` reports it). So a
# worker is recycled after about 200,000 requests (hours at full load;
# jittered so both never restart together), which bounds a slow leak without
# restarting every few seconds under load.
max_requests = 200_000
max_requests_jitter = max_requests // 10

# Which proxies may set X-Forwarded-Proto/-For for gunicorn (comma separated;
# "*" only when nothing but the load balancer can reach this port).
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")

# Access log on stdout, errors on stderr, through the app's logging setup
# (LOG_FORMAT plain or json, secrets masked). The access line has the path
# without its query string and no Referer: both can carry a PaymentIntent's
# client secret (the success page's URL).
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
logconfig_dict = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"), log_format=env.str("LOG_FORMAT", default="plain")
)

# Gunicorn 27's runtime control socket (one fixed path per user) is not used:
# without it, several instances on one host never fight over that path.
control_socket_disable = True
