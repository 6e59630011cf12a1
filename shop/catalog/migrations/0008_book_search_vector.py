"""Book.search_vector for PostgreSQL's full-text search, its GIN index, and the vectors of the
books already there (shop/catalog/search.py).

The column is harmless elsewhere (SQLite stores a NULL of any declared type),
but a GIN index exists on PostgreSQL only: the migration state always has it,
the database gets it only there.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="book_search_vector_gin")
CONFIG = "english"


def on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def index_add(apps, schema_editor):
    if on_postgresql(schema_editor):
        schema_editor.add_index(apps.get_model("catalog", "Book"), INDEX)


def index_remove(apps, schema_editor):
    if on_postgresql(schema_editor):
        schema_editor.remove_index(apps.get_model("catalog", "Book"), INDEX)


def vectors_fill(apps, schema_editor):
    # The vector as shop/catalog/search.py makes it, written out: a migration keeps its own copy.
    if on_postgresql(schema_editor):
        apps.get_model("catalog", "Book").objects.update(
            search_vector=SearchVector("title", weight="A", config=CONFIG)
            + SearchVector("author", weight="A", config=CONFIG)
            + SearchVector("isbn", weight="A", config=CONFIG)
            + SearchVector("description", weight="C", config=CONFIG)
        )


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0007_subjects_isbn_publication'),
    ]

    operations = [
        migrations.AddField(
            model_name='book',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="book", index=INDEX)],
            database_operations=[migrations.RunPython(index_add, index_remove)],
        ),
        migrations.RunPython(vectors_fill, migrations.RunPython.noop),
    ]
