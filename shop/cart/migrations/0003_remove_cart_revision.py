from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cart", "0002_cart_revision"),
    ]

    operations = [
        migrations.RemoveField(model_name="cart", name="revision"),
    ]
