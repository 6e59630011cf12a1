from django.db import migrations


def permissions_to_core(apps, schema_editor):
    """Staff keep "Can retry failed background tasks": its rows follow the model to the core app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    old = ContentType.objects.filter(app_label="orders", model="backgroundtask").first()
    if old is None:
        return
    new, _ = ContentType.objects.get_or_create(app_label="core", model="backgroundtask")
    Permission.objects.filter(content_type=new).delete()  # none yet, unless created by a partial run
    Permission.objects.filter(content_type=old).update(content_type=new)
    old.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_order_card_brand_last4"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(permissions_to_core, migrations.RunPython.noop),
        migrations.DeleteModel(name="BackgroundTask"),
    ]
