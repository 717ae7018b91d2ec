"""The four plans of the price list; every existing account joins Free."""

import secrets

import django.db.models.deletion
from django.db import migrations, models

PLANS = [
    # slug, name, per hour, per day, monthly credits, watermark by default, order
    ("free", "Free", 50, 500, 100, True, 0),
    ("basic", "Basic", 200, 2000, 2000, False, 1),
    ("pro", "Pro", 1000, 10000, 10000, False, 2),
    # Enterprise terms are custom: operators edit this row per contract.
    ("enterprise", "Enterprise", 5000, 50000, 50000, False, 3),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    Account = apps.get_model("accounts", "Account")
    for slug, name, hourly, daily, monthly, watermark, order in PLANS:
        Plan.objects.get_or_create(slug=slug, defaults={
            "name": name, "hourly_limit": hourly, "daily_limit": daily,
            "monthly_credits": monthly, "watermark_by_default": watermark, "sort_order": order})
    free = Plan.objects.get(slug="free")
    for account in Account.objects.filter(plan__isnull=True):
        account.plan = free
        account.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
        account.save(update_fields=["plan", "webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_plans_credits_quotas")]

    operations = [
        migrations.RunPython(create_plans, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="account",
            name="plan",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="accounts", to="accounts.plan"),
        ),
    ]
