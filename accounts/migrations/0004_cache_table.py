"""The database cache's table (settings.CACHES["default"] without Redis): made by
``migrate`` on every machine, so no separate ``createcachetable`` step is forgotten."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_default_plans")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
