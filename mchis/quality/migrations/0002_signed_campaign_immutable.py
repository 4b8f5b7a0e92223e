"""R-DQ-08: a signed audit campaign and its results refuse changes at the database level too."""

from django.db import migrations

PG = [
    """CREATE OR REPLACE FUNCTION quality_refuse_signed() RETURNS trigger AS $$
    DECLARE st text;
    BEGIN
      IF TG_TABLE_NAME = 'quality_auditcampaign' THEN
        IF OLD.status = 'signed' THEN RAISE EXCEPTION 'signed audit campaign is immutable (R-DQ-08)'; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
      ELSIF TG_TABLE_NAME = 'quality_auditsample' THEN
        SELECT status INTO st FROM quality_auditcampaign WHERE id = COALESCE(NEW.campaign_id, OLD.campaign_id);
      ELSE
        SELECT c.status INTO st FROM quality_auditcampaign c JOIN quality_auditsample s ON s.campaign_id = c.id
         WHERE s.id = COALESCE(NEW.sample_id, OLD.sample_id);
      END IF;
      IF st = 'signed' THEN RAISE EXCEPTION 'signed audit campaign is immutable (R-DQ-08)'; END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER quality_campaign_signed BEFORE UPDATE OR DELETE ON quality_auditcampaign "
    "FOR EACH ROW EXECUTE FUNCTION quality_refuse_signed()",
    "CREATE TRIGGER quality_sample_signed BEFORE INSERT OR UPDATE OR DELETE ON quality_auditsample "
    "FOR EACH ROW EXECUTE FUNCTION quality_refuse_signed()",
    "CREATE TRIGGER quality_result_signed BEFORE INSERT OR UPDATE OR DELETE ON quality_auditfieldresult "
    "FOR EACH ROW EXECUTE FUNCTION quality_refuse_signed()",
]
SQLITE = [
    """CREATE TRIGGER quality_campaign_signed_upd BEFORE UPDATE ON quality_auditcampaign
       WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, 'signed audit campaign is immutable (R-DQ-08)'); END""",
    """CREATE TRIGGER quality_campaign_signed_del BEFORE DELETE ON quality_auditcampaign
       WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, 'signed audit campaign is immutable (R-DQ-08)'); END""",
]
for op, ref in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
    SQLITE.append(
        f"""CREATE TRIGGER quality_sample_signed_{op.lower()} BEFORE {op} ON quality_auditsample
        WHEN (SELECT status FROM quality_auditcampaign WHERE id = {ref}.campaign_id) = 'signed'
        BEGIN SELECT RAISE(ABORT, 'signed audit campaign is immutable (R-DQ-08)'); END"""
    )
    SQLITE.append(
        f"""CREATE TRIGGER quality_result_signed_{op.lower()} BEFORE {op} ON quality_auditfieldresult
        WHEN (SELECT c.status FROM quality_auditcampaign c JOIN quality_auditsample s ON s.campaign_id = c.id
              WHERE s.id = {ref}.sample_id) = 'signed'
        BEGIN SELECT RAISE(ABORT, 'signed audit campaign is immutable (R-DQ-08)'); END"""
    )


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = PG if vendor == "postgresql" else SQLITE if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
