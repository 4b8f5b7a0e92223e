"""On PostgreSQL, forbid UPDATE and DELETE on the audit log, for everyone including DBAs (R-SEC-05).

(A superuser can still disable the trigger; the hash chain then exposes any edit: `manage.py audit_verify`.)
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mchis_audit_append_only() RETURNS trigger AS $$
BEGIN
  -- The test suite empties tables between transactional tests; only its connections set this.
  IF TG_OP = 'TRUNCATE' AND current_setting('mchis.test_purge', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'core_auditevent is append-only (nhật ký không được sửa/xóa)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
  FOR EACH ROW EXECUTE FUNCTION mchis_audit_append_only();
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION mchis_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS mchis_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
