#!/usr/bin/env bash
# Installs or upgrades mchis on a Debian 12 server (run as root from the release's checkout). Idempotent.
# Steps documented in docs/operations.md; every step is a command an operator can run by hand.
set -euo pipefail
APP=/srv/mchis/app
SRC=$(cd "$(dirname "$0")/.." && pwd)

apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv postgresql-15 redis-server nginx \
  pgbackrest prometheus prometheus-node-exporter curl

id mchis >/dev/null 2>&1 || useradd --system --home /srv/mchis --shell /usr/sbin/nologin mchis
install -d -o mchis -g mchis /srv/mchis /var/lib/mchis /var/lib/mchis/drills
install -d -o root -g mchis -m 0750 /etc/mchis
[ -f /etc/mchis/mchis.env ] || install -o root -g mchis -m 0640 "$SRC/deploy/mchis.env.example" /etc/mchis/mchis.env
install -o root -g mchis -m 0640 "$SRC"/deploy/systemd/worker-*.env /etc/mchis/

rsync -a --delete --exclude .git --exclude .venv --exclude node_modules "$SRC/" "$APP/"
chown -R mchis:mchis "$APP"
sudo -u mchis bash -c "cd $APP && python3 -m venv .venv && .venv/bin/pip install -q --require-hashes -r requirements/dev.lock"

set -a; . /etc/mchis/mchis.env; set +a
sudo -E -u mchis "$APP/.venv/bin/python" "$APP/manage.py" check --deploy --fail-level WARNING
sudo -E -u mchis "$APP/.venv/bin/python" "$APP/manage.py" migrate --noinput
sudo -E -u mchis "$APP/.venv/bin/python" "$APP/manage.py" collectstatic --noinput

install -m 0644 "$SRC"/deploy/systemd/*.service "$SRC"/deploy/systemd/*.timer /etc/systemd/system/
install -m 0644 "$SRC/deploy/nginx/mchis.conf" /etc/nginx/sites-available/mchis
ln -sf /etc/nginx/sites-available/mchis /etc/nginx/sites-enabled/mchis
install -m 0644 "$SRC/deploy/pgbackrest/postgresql-archiving.conf" /etc/postgresql/15/main/conf.d/mchis-archiving.conf
[ -f /etc/pgbackrest/pgbackrest.conf ] || install -o postgres -g postgres -m 0640 "$SRC/deploy/pgbackrest/pgbackrest.conf" /etc/pgbackrest/pgbackrest.conf
install -m 0644 "$SRC/deploy/prometheus/alerts.yml" /etc/prometheus/mchis-alerts.yml
promtool check rules /etc/prometheus/mchis-alerts.yml

systemctl daemon-reload
systemctl enable --now mchis-web mchis-worker@default mchis-worker@heavy mchis-beat mchis-web-health.timer
systemctl reload nginx
# Demo / test environments only (MCHIS_DEMO_RECEIVERS=1): the local partner receivers (docs/exchanges.md).
if [ "${MCHIS_DEMO_RECEIVERS:-0}" = "1" ]; then
    for name in ehr statistics handbook population; do
        [ -f "/etc/mchis/receiver-$name.env" ] || install -o root -g mchis -m 0640 "$SRC/deploy/systemd/receiver-$name.env" "/etc/mchis/receiver-$name.env"
    done
    systemctl enable --now mchis-receiver@ehr mchis-receiver@statistics mchis-receiver@handbook mchis-receiver@population
fi
curl -fsS --unix-socket /run/mchis/gunicorn.sock http://localhost/health/ready
